package dev.dks.trainers.loop;

import dev.dks.trainers.data.Dataset;
import dev.dks.trainers.graph.TrainingGraph;
import java.util.Arrays;
import java.util.Objects;

/**
 * Every {@code every} steps (and after the last step of the run) evaluates the graph on a
 * held-out set in batches of {@code batchSize}, without updating anything, and reports the
 * example-weighted mean loss and accuracy through {@link TrainingContext#reportEvaluation} (so
 * every listener's {@code onEvaluation} sees it). The set is the one given here, else the
 * trainer's {@link Trainer.Builder#validation validation set}. Targets are plain one-hot (no
 * label smoothing); the loss includes the graph's L2 term, as the training loss does. Nothing is
 * evaluated after a diverged step.
 */
public final class EvaluationListener implements TrainingListener {
  private final Dataset data;
  private final long every;
  private final int batchSize;
  private EvaluationResult last;

  /** Evaluates the trainer's validation set every {@code every} steps in batches. */
  public EvaluationListener(long every, int batchSize) {
    this(null, every, batchSize);
  }

  /**
   * Evaluates {@code data} (null: the trainer's validation set) every {@code every} steps in
   * batches of {@code batchSize}.
   */
  public EvaluationListener(Dataset data, long every, int batchSize) {
    if (every <= 0 || batchSize <= 0) {
      throw new IllegalArgumentException("interval and batch size must be positive: " + every
          + ", " + batchSize);
    }
    this.data = data;
    this.every = every;
    this.batchSize = batchSize;
  }

  /** The last result, or null. */
  public EvaluationResult last() {
    return last;
  }

  @Override
  public void onStart(TrainingContext context) {
    if (data == null && context.validation().isEmpty()) {
      throw new IllegalStateException("EvaluationListener has no data set and the trainer has "
          + "no validation set");
    }
  }

  @Override
  public void onStep(TrainingContext context, StepResult result) {
    long done = result.step() + 1;
    if (context.diverged() || !result.finite()) {
      return;
    }
    if (done % every == 0 || done == context.totalSteps()) {
      last = evaluate(context.graph(), data != null ? data : context.validation().get(), done,
          batchSize);
      context.reportEvaluation(last);
    }
  }

  /** Evaluates {@code graph} on all of {@code data} in batches; labelled with {@code step}. */
  public static EvaluationResult evaluate(TrainingGraph graph, Dataset data, long step,
      int batchSize) {
    Objects.requireNonNull(data, "data");
    int n = data.size();
    int k = data.classes();
    if (k != graph.classes()) {
      throw new IllegalArgumentException(data.name() + " has " + k + " classes, the graph "
          + graph.classes());
    }
    int size = data.imageSize();
    double loss = 0;
    double acc = 0;
    for (int from = 0; from < n; from += batchSize) {
      int m = Math.min(batchSize, n - from);
      float[] x = Arrays.copyOfRange(data.images(), from * size, (from + m) * size);
      float[] y = new float[m * k];
      for (int i = 0; i < m; i++) {
        y[i * k + data.labels()[from + i]] = 1f;
      }
      double[] la = graph.evaluate(x, new long[] {m, data.h(), data.w(), data.c()}, y);
      loss += la[0] * m;
      acc += la[1] * m;
    }
    return new EvaluationResult(step, n == 0 ? Double.NaN : loss / n,
        n == 0 ? Double.NaN : acc / n, n);
  }
}
