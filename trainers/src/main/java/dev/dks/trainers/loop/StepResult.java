package dev.dks.trainers.loop;

/**
 * What one optimizer step reported.
 *
 * @param step the 0-based global step (trained on {@code batchAt(step)})
 * @param epoch the epoch of that batch
 * @param loss the training loss on the batch, computed before the update
 * @param accuracy the training accuracy on the batch, before the update
 * @param learningRate the learning rate fed to the step
 * @param seconds wall time of the step (feeding, running the graph, fetching), in seconds
 */
public record StepResult(long step, long epoch, double loss, double accuracy,
    double learningRate, double seconds) {

  /** Whether the loss is neither NaN nor infinite. */
  public boolean finite() {
    return Double.isFinite(loss);
  }
}
