package dev.dks.trainers.data;

/**
 * One batch from a {@link BatchIterator}, NHWC float32.
 *
 * @param step the global step this batch belongs to (0-based)
 * @param epoch the epoch ({@code step / batchesPerEpoch})
 * @param indices the data set indices of the examples, in batch order
 * @param images {@code [size, h, w, c]} row-major, after augmentation
 * @param labels class index per example
 * @param oneHot {@code [size, classes]} row-major targets, label smoothing applied
 * @param h image height
 * @param w image width
 * @param c channels
 * @param classes number of classes
 */
public record Batch(long step, long epoch, int[] indices, float[] images, int[] labels,
    float[] oneHot, int h, int w, int c, int classes) {
  /** Number of examples in the batch. */
  public int size() {
    return labels.length;
  }
}
