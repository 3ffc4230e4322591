package dev.dks.trainers.optim;

import java.util.Arrays;
import java.util.Objects;
import java.util.function.LongToDoubleFunction;

/**
 * A learning rate as a function of the (0-based) optimizer step. The value is fed to the training
 * graph each step as a scalar placeholder, so any schedule works without rebuilding the graph.
 */
@FunctionalInterface
public interface LearningRateSchedule {

  /** The learning rate to use at {@code step} (0-based). */
  double at(long step);

  /** The same learning rate at every step. */
  static LearningRateSchedule constant(double lr) {
    return step -> lr;
  }

  /**
   * Step decay: {@code lr0} until the first boundary, then {@code lr0 * factors[i]} from
   * {@code boundaries[i]} on (the factors are absolute multipliers of lr0, not cumulative).
   *
   * @param lr0 the initial learning rate
   * @param boundaries strictly increasing steps at which the rate changes
   * @param factors one multiplier per boundary
   */
  static LearningRateSchedule stepDecay(double lr0, long[] boundaries, double[] factors) {
    if (boundaries.length != factors.length) {
      throw new IllegalArgumentException("need one factor per boundary, got "
          + boundaries.length + " boundaries and " + factors.length + " factors");
    }
    for (int i = 1; i < boundaries.length; i++) {
      if (boundaries[i] <= boundaries[i - 1]) {
        throw new IllegalArgumentException("boundaries must increase strictly: "
            + Arrays.toString(boundaries));
      }
    }
    long[] b = boundaries.clone();
    double[] f = factors.clone();
    return step -> {
      double lr = lr0;
      for (int i = 0; i < b.length && step >= b[i]; i++) {
        lr = lr0 * f[i];
      }
      return lr;
    };
  }

  /**
   * Cosine decay with linear warm-up, as in the TAT recipe: {@code lr0 * t / w} for
   * {@code t < w}, then {@code 0.5 * lr0 * (1 + cos(pi * (t - w) / (T - w)))}, and 0 from
   * {@code T} on.
   *
   * @param lr0 the peak learning rate
   * @param warmupSteps w, may be 0
   * @param totalSteps T, greater than w
   */
  static LearningRateSchedule cosineWithWarmup(double lr0, long warmupSteps, long totalSteps) {
    if (warmupSteps < 0 || totalSteps <= warmupSteps) {
      throw new IllegalArgumentException("need 0 <= warm-up < total steps, got warm-up "
          + warmupSteps + " of " + totalSteps);
    }
    return t -> {
      if (t < warmupSteps) {
        return lr0 * t / warmupSteps;
      }
      if (t >= totalSteps) {
        return 0.0;
      }
      return 0.5 * lr0 * (1 + Math.cos(Math.PI * (t - warmupSteps) / (totalSteps - warmupSteps)));
    };
  }

  /** A user function of the step. */
  static LearningRateSchedule of(LongToDoubleFunction f) {
    Objects.requireNonNull(f, "f");
    return f::applyAsDouble;
  }
}
