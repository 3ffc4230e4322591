package dev.dks.trainers.data;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * An in-memory labelled image data set in NHWC float32 layout.
 *
 * <p>{@code images} has {@code n * h * w * c} elements, shape {@code [n, h, w, c]} row-major
 * (element {@code (i, y, x, ch)} at {@code ((i * h + y) * w + x) * c + ch}); {@code labels} has
 * {@code n} class indices in {@code 0..classes-1}. The arrays are shared, not copied: treat them
 * as read-only; every transforming method returns a new data set with new arrays.
 *
 * @param name a human-readable name (e.g. {@code fashion-mnist/train})
 * @param images pixel values, {@code [n, h, w, c]} row-major
 * @param labels class index per image
 * @param h image height
 * @param w image width
 * @param c channels
 * @param classes number of classes (labels are below it)
 */
public record Dataset(String name, float[] images, int[] labels, int h, int w, int c,
    int classes) {

  /** Checks that the shapes agree and every label is in {@code 0..classes-1}. */
  public Dataset {
    if (h <= 0 || w <= 0 || c <= 0 || classes <= 0) {
      throw new IllegalArgumentException(name + ": h, w, c and classes must be positive: " + h
          + "x" + w + "x" + c + ", " + classes + " classes");
    }
    if ((long) labels.length * h * w * c != images.length) {
      throw new IllegalArgumentException(name + ": " + images.length + " pixel values for "
          + labels.length + " images of " + h + "x" + w + "x" + c);
    }
    for (int i = 0; i < labels.length; i++) {
      if (labels[i] < 0 || labels[i] >= classes) {
        throw new IllegalArgumentException(name + ": label " + labels[i] + " of image " + i
            + " is outside 0.." + (classes - 1));
      }
    }
  }

  /** A train / validation pair from {@link #split}. */
  public record Split(Dataset train, Dataset validation) {}

  /** Per-channel mean and standard deviation, from {@link #channelStats()}. */
  public record ChannelStats(float[] mean, float[] std) {}

  /** Number of images. */
  public int size() {
    return labels.length;
  }

  /** Values per image ({@code h * w * c}). */
  public int imageSize() {
    return h * w * c;
  }

  /** Number of images of each class. */
  public int[] classCounts() {
    int[] counts = new int[classes];
    for (int l : labels) {
      counts[l]++;
    }
    return counts;
  }

  /** The images at {@code indices} (in that order), as a new data set named {@code newName}. */
  public Dataset subset(int[] indices, String newName) {
    int s = imageSize();
    float[] im = new float[indices.length * s];
    int[] lb = new int[indices.length];
    for (int k = 0; k < indices.length; k++) {
      System.arraycopy(images, indices[k] * s, im, k * s, s);
      lb[k] = labels[indices[k]];
    }
    return new Dataset(newName, im, lb, h, w, c, classes);
  }

  /**
   * Splits off a random validation part: a seeded permutation of the images; the first {@code
   * round(validationFraction * n)} go to validation, the rest (in permuted order) to train. The
   * result is a pure function of the data, the fraction and the seed.
   *
   * @param validationFraction in {@code [0, 1)}
   */
  public Split split(double validationFraction, long seed) {
    if (!(validationFraction >= 0 && validationFraction < 1)) {
      throw new IllegalArgumentException("validation fraction must be in [0, 1): "
          + validationFraction);
    }
    int n = size();
    int nv = (int) Math.round(validationFraction * n);
    int[] perm = BatchIterator.permutation(n, new SplittableRandom(seed));
    return new Split(subset(Arrays.copyOfRange(perm, nv, n), name + "/train"),
        subset(Arrays.copyOfRange(perm, 0, nv), name + "/validation"));
  }

  /** Every value divided by {@code maxValue} (e.g. 255 for bytes, 16 for digits): to [0, 1]. */
  public Dataset scaledTo01(float maxValue) {
    if (!(maxValue > 0)) {
      throw new IllegalArgumentException("max value must be positive: " + maxValue);
    }
    float[] out = new float[images.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = images[i] / maxValue;
    }
    return new Dataset(name, out, labels, h, w, c, classes);
  }

  /**
   * Min-max scaling to [0, 1] by the smallest and largest value present (all zeros when they are
   * equal).
   */
  public Dataset scaledTo01() {
    float min = Float.POSITIVE_INFINITY;
    float max = Float.NEGATIVE_INFINITY;
    for (float v : images) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    float range = max - min;
    float[] out = new float[images.length];
    if (range > 0) {
      for (int i = 0; i < out.length; i++) {
        out[i] = (images[i] - min) / range;
      }
    }
    return new Dataset(name, out, labels, h, w, c, classes);
  }

  /**
   * Per-channel mean and (population) standard deviation over all images and locations,
   * computed in double precision. Compute them on the training part and apply them to every part
   * with {@link #standardized(ChannelStats)}.
   */
  public ChannelStats channelStats() {
    double[] sum = new double[c];
    double[] sq = new double[c];
    for (int i = 0; i < images.length; i++) {
      double v = images[i];
      sum[i % c] += v;
      sq[i % c] += v * v;
    }
    long count = (long) size() * h * w;
    float[] mean = new float[c];
    float[] std = new float[c];
    for (int ch = 0; ch < c; ch++) {
      double m = count == 0 ? 0 : sum[ch] / count;
      double var = count == 0 ? 0 : Math.max(0, sq[ch] / count - m * m);
      mean[ch] = (float) m;
      std[ch] = (float) Math.sqrt(var);
    }
    return new ChannelStats(mean, std);
  }

  /**
   * {@code (x - mean[ch]) / std[ch]} per channel; a zero (or tiny) standard deviation is
   * replaced by 1 so constant channels become 0 rather than NaN.
   */
  public Dataset standardized(ChannelStats stats) {
    if (stats.mean().length != c || stats.std().length != c) {
      throw new IllegalArgumentException("stats for " + stats.mean().length
          + " channels, data has " + c);
    }
    float[] out = new float[images.length];
    for (int i = 0; i < out.length; i++) {
      int ch = i % c;
      float s = stats.std()[ch] > 1e-12f ? stats.std()[ch] : 1f;
      out[i] = (images[i] - stats.mean()[ch]) / s;
    }
    return new Dataset(name, out, labels, h, w, c, classes);
  }

  /** Standardized by its own {@link #channelStats()}. */
  public Dataset standardized() {
    return standardized(channelStats());
  }

  /** A copy with another name. */
  public Dataset withName(String newName) {
    return new Dataset(newName, images, labels, h, w, c, classes);
  }

  @Override
  public String toString() {
    return "Dataset[" + name + ", " + size() + " x " + h + "x" + w + "x" + c + ", " + classes
        + " classes]";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Dataset d && name.equals(d.name) && h == d.h && w == d.w && c == d.c
        && classes == d.classes && Arrays.equals(labels, d.labels)
        && Arrays.equals(images, d.images);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(labels) + Arrays.hashCode(images);
  }
}
