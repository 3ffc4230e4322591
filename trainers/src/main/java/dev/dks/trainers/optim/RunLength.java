package dev.dks.trainers.optim;

import java.util.Locale;

/**
 * How many optimizer steps a training run takes, and where the number came from: steps given,
 * epochs given, or the default rule, <b>one epoch, at least {@value #MIN_STEPS} steps</b> (an
 * epoch counts whole batches: {@code floor(examples / batch)}). The schedule's warm-up and
 * cosine are laid over this length ({@link OptimizerDefaults#warmupSteps}).
 *
 * <p>Why: one epoch (Keras's default) is 468 steps on Fashion-MNIST or MNIST at batch 128, enough
 * for the K-FAC and SGD defaults there, but 11 steps on the 1,437 training digits, where a
 * shaped 8-layer CNN is still at chance; the floor of 300 steps, 27 epochs of the digits, takes
 * it to 99% (the README's training notes give the measurements).
 *
 * <p>A model whose batch normalization trains (moving averages {@code moving = moving * m +
 * batch * (1 - m)}) gets at least as many steps as the averages need to keep under {@link
 * #BN_RESIDUAL} of their start, {@code ceil(ln 0.001 / ln m)}: 688 at Keras's m = 0.99. The
 * served model normalizes with those averages: MLPerf Tiny's CIFAR ResNet-8 trained on other data
 * (synthetic 32x32x3) served 10% (chance) after 300 steps, 39% after 500, 99.8% after 750.
 *
 * @param steps the run's total steps, &gt; 0
 * @param stepsPerEpoch whole batches per epoch, &gt;= 0
 * @param source where {@code steps} came from
 * @param bnMomentum for the default, the largest moving-average momentum of the model's training
 *     batch norms, else {@code NaN}
 */
public record RunLength(long steps, long stepsPerEpoch, Source source, double bnMomentum) {
  /** The fewest steps the default rule gives. */
  public static final long MIN_STEPS = 300;
  /** What the default length leaves of a batch norm's starting moving averages, at most. */
  public static final double BN_RESIDUAL = 1e-3;

  /** Where a run length came from. */
  public enum Source {
    /** {@code --steps N}. */
    STEPS,
    /** {@code --epochs E}: {@code ceil(E x steps per epoch)}. */
    EPOCHS,
    /** Neither: {@link #byDefault}. */
    DEFAULT
  }

  /** Validates. */
  public RunLength {
    if (steps <= 0) {
      throw new IllegalArgumentException("a run needs at least one step, got " + steps);
    }
    if (stepsPerEpoch < 0) {
      throw new IllegalArgumentException("steps per epoch must be >= 0, got " + stepsPerEpoch);
    }
    java.util.Objects.requireNonNull(source, "source");
  }

  /** {@code steps} steps, as given. */
  public static RunLength ofSteps(long steps, long stepsPerEpoch) {
    return new RunLength(steps, stepsPerEpoch, Source.STEPS, Double.NaN);
  }

  /** {@code ceil(epochs x stepsPerEpoch)} steps (at least one). */
  public static RunLength ofEpochs(double epochs, long stepsPerEpoch) {
    if (!(epochs > 0) || Double.isInfinite(epochs)) {
      throw new IllegalArgumentException("epochs must be positive, got " + epochs);
    }
    return new RunLength(Math.max(1, (long) Math.ceil(epochs * stepsPerEpoch)), stepsPerEpoch,
        Source.EPOCHS, Double.NaN);
  }

  /** The default: one epoch, at least {@link #MIN_STEPS} steps. */
  public static RunLength byDefault(long stepsPerEpoch) {
    return byDefault(stepsPerEpoch, Double.NaN);
  }

  /**
   * The default for a model whose training batch norms' largest momentum is {@code bnMomentum}
   * ({@code NaN}: none): one epoch, at least {@link #MIN_STEPS} and at least {@link
   * #bnSteps(double)}.
   */
  public static RunLength byDefault(long stepsPerEpoch, double bnMomentum) {
    return new RunLength(Math.max(stepsPerEpoch, Math.max(MIN_STEPS, bnSteps(bnMomentum))),
        stepsPerEpoch, Source.DEFAULT, bnMomentum > 0 && bnMomentum < 1 ? bnMomentum : Double.NaN);
  }

  /**
   * Steps after which moving averages of momentum {@code m} hold at most {@link #BN_RESIDUAL}
   * of their start: {@code ceil(ln 0.001 / ln m)}, 0 for {@code m} outside (0, 1).
   */
  public static long bnSteps(double m) {
    return m > 0 && m < 1 ? (long) Math.ceil(Math.log(BN_RESIDUAL) / Math.log(m)) : 0;
  }

  /** The run's length in epochs ({@code NaN} when an epoch has no whole batch). */
  public double epochs() {
    return stepsPerEpoch > 0 ? (double) steps / stepsPerEpoch : Double.NaN;
  }

  /** The default rule in words: {@code one epoch, at least 300 steps}. */
  public static String rule() {
    return "one epoch, at least " + MIN_STEPS + " steps";
  }

  /**
   * The default rule as it applied to this run: {@link #rule()}, with a training batch norm
   * {@code one epoch, at least 300 steps, 688 for batch norm's moving averages (momentum 0.99)}.
   */
  public String ruleApplied() {
    return Double.isNaN(bnMomentum) ? rule() : rule() + ", " + bnSteps(bnMomentum)
        + " for batch norm's moving averages (momentum " + bnMomentum + ")";
  }

  /** {@code 27.27 epochs of 11 steps}, or empty when an epoch has no whole batch. */
  public String epochsPhrase() {
    if (stepsPerEpoch == 0) {
      return "";
    }
    String e = decimals(epochs());
    return e + (e.equals("1") ? " epoch of " : " epochs of ") + stepsPerEpoch + " steps";
  }

  /**
   * The length in words: {@code 300 steps = 27.27 epochs of 11 steps (default: one epoch, at
   * least 300 steps)}; the parenthesis only for the default.
   */
  public String describe() {
    String s = steps + " steps" + (stepsPerEpoch > 0 ? " = " + epochsPhrase() : "");
    return source == Source.DEFAULT ? s + " (default: " + ruleApplied() + ")" : s;
  }

  /** {@code v} with at most 2 decimals, no trailing zeros: 27.27, 1, 1.5. */
  private static String decimals(double v) {
    return java.math.BigDecimal.valueOf(v).setScale(2, java.math.RoundingMode.HALF_UP)
        .stripTrailingZeros().toPlainString();
  }

  /** The source as the JSON value: {@code steps}, {@code epochs} or {@code default}. */
  public String sourceName() {
    return source.name().toLowerCase(Locale.ROOT);
  }
}
