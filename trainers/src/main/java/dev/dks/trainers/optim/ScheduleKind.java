package dev.dks.trainers.optim;

import java.util.Locale;

/**
 * The shape of a learning rate schedule, as {@code dks train --schedule} names it, built into a
 * {@link LearningRateSchedule} from a peak rate, a warm-up length and the run's total steps.
 *
 * <ul>
 *   <li>{@link #COSINE}: {@link LearningRateSchedule#cosineWithWarmup} (linear warm-up from 0,
 *       then cosine decay to 0 at the last step: the TAT recipe's schedule);
 *   <li>{@link #CONSTANT}: the peak rate, after a linear warm-up {@code lr (t + 1) / w};
 *   <li>{@link #STEP}: the peak rate, x0.1 from 50% and x0.01 from 75% of the steps, after the
 *       same warm-up.
 * </ul>
 */
public enum ScheduleKind {
  /** Constant after the warm-up. */
  CONSTANT,
  /** Cosine decay to 0 after a warm-up from 0. */
  COSINE,
  /** Step decay x0.1 at 50%, x0.01 at 75% of the steps. */
  STEP;

  /** The kind named {@code name} (case-insensitive), or an exception listing the names. */
  public static ScheduleKind parse(String name) {
    for (ScheduleKind k : values()) {
      if (k.name().equalsIgnoreCase(name)) {
        return k;
      }
    }
    throw new IllegalArgumentException("unknown schedule '" + name
        + "': use constant, cosine or step");
  }

  /** The lower-case name ({@code cosine}, ...). */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * The schedule for a run.
   *
   * @param lr the peak learning rate, &gt; 0
   * @param warmupSteps the linear warm-up, 0 &lt;= w &lt; total (0: none)
   * @param totalSteps the run's total steps, &gt; 0 (the cosine reaches 0 there)
   */
  public LearningRateSchedule build(double lr, long warmupSteps, long totalSteps) {
    if (warmupSteps < 0 || (warmupSteps > 0 && warmupSteps >= totalSteps)) {
      throw new IllegalArgumentException("need 0 <= warm-up < total steps, got warm-up "
          + warmupSteps + " of " + totalSteps);
    }
    if (this == COSINE) {
      return LearningRateSchedule.cosineWithWarmup(lr, warmupSteps, totalSteps);
    }
    LearningRateSchedule base = this == STEP
        ? LearningRateSchedule.stepDecay(lr, stepBoundaries(totalSteps), new double[] {0.1, 0.01})
        : LearningRateSchedule.constant(lr);
    if (warmupSteps == 0) {
      return base;
    }
    long w = warmupSteps;
    return LearningRateSchedule.of(step -> step < w ? lr * (step + 1) / w : base.at(step));
  }

  private static long[] stepBoundaries(long total) {
    long a = Math.max(1, total / 2);
    long b = Math.max(a + 1, total * 3 / 4);
    return new long[] {a, b};
  }
}
