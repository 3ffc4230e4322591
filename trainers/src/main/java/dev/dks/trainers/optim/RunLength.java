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
 * @param steps the run's total steps, &gt; 0
 * @param stepsPerEpoch whole batches per epoch, &gt;= 0
 * @param source where {@code steps} came from
 */
public record RunLength(long steps, long stepsPerEpoch, Source source) {
  /** The fewest steps the default rule gives. */
  public static final long MIN_STEPS = 300;

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
    return new RunLength(steps, stepsPerEpoch, Source.STEPS);
  }

  /** {@code ceil(epochs x stepsPerEpoch)} steps (at least one). */
  public static RunLength ofEpochs(double epochs, long stepsPerEpoch) {
    if (!(epochs > 0) || Double.isInfinite(epochs)) {
      throw new IllegalArgumentException("epochs must be positive, got " + epochs);
    }
    return new RunLength(Math.max(1, (long) Math.ceil(epochs * stepsPerEpoch)), stepsPerEpoch,
        Source.EPOCHS);
  }

  /** The default: one epoch, at least {@link #MIN_STEPS} steps. */
  public static RunLength byDefault(long stepsPerEpoch) {
    return new RunLength(Math.max(stepsPerEpoch, MIN_STEPS), stepsPerEpoch, Source.DEFAULT);
  }

  /** The run's length in epochs ({@code NaN} when an epoch has no whole batch). */
  public double epochs() {
    return stepsPerEpoch > 0 ? (double) steps / stepsPerEpoch : Double.NaN;
  }

  /** The default rule in words: {@code one epoch, at least 300 steps}. */
  public static String rule() {
    return "one epoch, at least " + MIN_STEPS + " steps";
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
    return source == Source.DEFAULT ? s + " (default: " + rule() + ")" : s;
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
