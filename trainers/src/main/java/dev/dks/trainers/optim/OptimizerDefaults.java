package dev.dks.trainers.optim;

/**
 * What an optimizer uses when the user sets nothing: the peak learning rate, the schedule shape,
 * the warm-up as a fraction of the run and the momentum. {@code dks train} takes each of these
 * from here unless its flag is given, so a run with no optimizer flag trains the builder's
 * shaped networks; the values were chosen by runs on the 20-layer TAT-shaped plain CNN (width
 * 16, global average pool, batch 128, Fashion-MNIST, 300 steps; see the README's training
 * notes).
 *
 * <p>The SGD family shares one effective step: Nesterov and heavy-ball momentum with {@code mu}
 * take {@code lr}, plain SGD takes {@code lr / (1 - mu)}, the step size momentum reaches in a
 * steady direction.
 *
 * @param lr the peak learning rate, &gt; 0
 * @param schedule the schedule shape
 * @param warmupFraction the linear warm-up as a fraction of the run's steps, in [0, 1)
 * @param momentum the momentum fed every step (K-FAC's velocity decay too)
 */
public record OptimizerDefaults(double lr, ScheduleKind schedule, double warmupFraction,
    double momentum) {

  /** Nesterov / momentum peak learning rate of the SGD family at batch 128. */
  public static final double SGD_LR = 0.02;
  /**
   * Nesterov / momentum peak learning rate for a DKS/TAT-shaped plain network at batch 128: with
   * no normalization layer to absorb a large step, {@link #SGD_LR} diverges on the README's
   * 20-layer TAT CNN (step 116 of 300), 0.01 reaches 80.3% and 0.005 81.2% test accuracy (the
   * headline's plain ResNet-50 layout trained best at 0.003).
   */
  public static final double SHAPED_SGD_LR = 0.005;
  /** K-FAC peak learning rate with {@code KfacOptions.defaults()}. */
  public static final double KFAC_LR = 1e-3;
  /** The TAT paper's K-FAC peak learning rate (batch 1024, ImageNet). */
  public static final double KFAC_TAT_LR = 3e-4;
  /** Warm-up fraction of every default: a tenth of the run. */
  public static final double WARMUP_FRACTION = 0.1;
  /** Momentum of every default. */
  public static final double MOMENTUM = 0.9;

  /** Validates. */
  public OptimizerDefaults {
    if (!(lr > 0) || Double.isInfinite(lr)) {
      throw new IllegalArgumentException("learning rate must be finite and > 0, got " + lr);
    }
    java.util.Objects.requireNonNull(schedule, "schedule");
    if (!(warmupFraction >= 0 && warmupFraction < 1)) {
      throw new IllegalArgumentException("warm-up fraction must be in [0, 1), got "
          + warmupFraction);
    }
    if (!Double.isFinite(momentum)) {
      throw new IllegalArgumentException("momentum must be finite, got " + momentum);
    }
  }

  /**
   * The defaults of an SGD-family rule: cosine with a 10% warm-up, momentum 0.9, peak
   * {@link #SGD_LR} ({@code SGD_LR / (1 - 0.9)} for plain SGD, the same effective step).
   */
  public static OptimizerDefaults sgd(SgdOptimizer.Kind kind) {
    return sgd(kind, false);
  }

  /**
   * As {@link #sgd(SgdOptimizer.Kind)}, with peak {@link #SHAPED_SGD_LR} instead of
   * {@link #SGD_LR} for a model shaped by DKS or TAT ({@code shaped}).
   */
  public static OptimizerDefaults sgd(SgdOptimizer.Kind kind, boolean shaped) {
    double peak = shaped ? SHAPED_SGD_LR : SGD_LR;
    double lr = kind == SgdOptimizer.Kind.SGD ? peak / (1 - MOMENTUM) : peak;
    return new OptimizerDefaults(lr, ScheduleKind.COSINE, WARMUP_FRACTION, MOMENTUM);
  }

  /** The defaults of K-FAC with {@code KfacOptions.defaults()}: peak {@link #KFAC_LR}, cosine. */
  public static OptimizerDefaults kfac() {
    return new OptimizerDefaults(KFAC_LR, ScheduleKind.COSINE, WARMUP_FRACTION, MOMENTUM);
  }

  /** The TAT paper's K-FAC schedule: peak {@link #KFAC_TAT_LR}, cosine, momentum 0.9. */
  public static OptimizerDefaults kfacTatRecipe() {
    return new OptimizerDefaults(KFAC_TAT_LR, ScheduleKind.COSINE, WARMUP_FRACTION, MOMENTUM);
  }

  /**
   * The warm-up steps for a run of {@code totalSteps}: {@code round(fraction x total)}, kept
   * below the total (0 for a one-step run).
   */
  public long warmupSteps(long totalSteps) {
    if (totalSteps <= 1) {
      return 0;
    }
    return Math.min(totalSteps - 1, Math.round(warmupFraction * totalSteps));
  }
}
