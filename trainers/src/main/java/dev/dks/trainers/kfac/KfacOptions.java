package dev.dks.trainers.kfac;

import java.util.Objects;

/**
 * Hyper-parameters of {@link KfacOptimizer}. {@link #defaults()} gives values that train the
 * plain (skip-free, normalization-free) CNNs dks builds and rewrites, which end in a global
 * average pool, at small batches; {@link #tatRecipe()} gives the values of the TAT paper's K-FAC
 * runs (kfac.md section 5.2), which diverge on those networks at batch 128. Change either with
 * the withers. The learning rate and
 * the momentum are not here: like SGD's, they are fed every step by the trainer (so the cosine
 * schedule with warm-up of the recipe works unchanged).
 *
 * @param curvatureEma decay rho of the bias-corrected moving average of the factors, in [0, 1]
 *     (recipe 0.99); with statistics every k steps the decay per update is {@code rho^k}
 * @param curvatureEvery statistics are updated at steps that are multiples of this (&gt;= 1)
 * @param inverseEvery the cached inverses are recomputed at steps that are multiples of this
 *     (recipe 50); must be a multiple of {@code curvatureEvery}
 * @param burnIn batches whose statistics are averaged (rho = 1) before the first update (recipe 5)
 * @param damping Tikhonov damping lambda (recipe 1e-3), &gt; 0; the trainer's L2 coefficient is
 *     added to it in the preconditioner
 * @param normConstraint C_max of the norm constraint ("KL clipping"): the update u is scaled by
 *     {@code min(1, sqrt(C_max / (lr^2 grad . u)))}; 0 switches it off (recipe 1e-3)
 * @param estimation how the statistics' backward pass is seeded
 * @param inverse how the factors are damped and inverted
 * @param statisticsExamples use only the first this many examples of the (global) batch for the
 *     factor statistics (0 = the whole batch). Unless examples interact in the forward pass
 *     (batch normalization with batch statistics), the statistics then run on a copy of the
 *     forward pass that reads only those rows ({@link SubBatchForward}), so that their cost,
 *     chiefly the sampled backward pass through every layer, scales with m instead of the batch;
 *     with such batch normalization, or a global batch of at most m rows, they read the
 *     training forward pass and mask the seeds of the other rows (the same statistics at the
 *     whole batch's cost)
 * @param seed seed of the sampled targets (with the step, it fixes every draw)
 * @param conv how Conv2D blocks treat weight sharing over locations (recipe: expand)
 * @param patchRowsPerDimension KFC-expand conv blocks estimate A from {@code ceil(k d_A)} patch
 *     rows drawn uniformly with replacement from the {@code examples x T} rows of a batch
 *     (seeded by the seed, the step and the block), an unbiased estimate at a cost independent of
 *     the image size, as tensorflow/kfac's {@code max_num_patches_per_dimension} (3 there); 0 =
 *     every row (the recipe's exact batch statistics). Ignored by K-FAC-reduce and dense blocks
 * @param adaptation Levenberg-Marquardt adaptation of the damping, or null for a fixed damping
 *     (the recipe's)
 * @param denseStatisticsSteps statistics are taken at every global step below this one (and at
 *     multiples of {@code curvatureEvery} after it), so that the factors follow the fast early
 *     change of the curvature while later steps amortize them; 0 (the recipe's) = the period
 *     applies from the start ({@code dks train --curvature-dense-steps N}; not a default: with
 *     statistics every 5 steps after the warm-up, the builder's plain CNN without down-sampling
 *     diverged)
 */
public record KfacOptions(
    double curvatureEma,
    int curvatureEvery,
    int inverseEvery,
    int burnIn,
    double damping,
    double normConstraint,
    FisherEstimation estimation,
    InverseMethod inverse,
    int statisticsExamples,
    long seed,
    ConvApproximation conv,
    double patchRowsPerDimension,
    DampingAdaptation adaptation,
    int denseStatisticsSteps) {

  /** Validates. */
  public KfacOptions {
    if (!(curvatureEma >= 0 && curvatureEma <= 1)) {
      throw new IllegalArgumentException("curvature EMA must be in [0, 1], got " + curvatureEma);
    }
    if (curvatureEvery < 1 || inverseEvery < 1) {
      throw new IllegalArgumentException("curvature and inverse update periods must be >= 1, got "
          + curvatureEvery + " and " + inverseEvery);
    }
    if (inverseEvery % curvatureEvery != 0) {
      throw new IllegalArgumentException("the inverse update period (" + inverseEvery
          + ") must be a multiple of the curvature update period (" + curvatureEvery + ")");
    }
    if (burnIn < 0) {
      throw new IllegalArgumentException("burn-in must be >= 0, got " + burnIn);
    }
    if (!(damping > 0) || Double.isInfinite(damping)) {
      throw new IllegalArgumentException("damping must be finite and > 0, got " + damping);
    }
    if (!(normConstraint >= 0) || Double.isInfinite(normConstraint)) {
      throw new IllegalArgumentException("the norm constraint must be finite and >= 0 (0 = off), "
          + "got " + normConstraint);
    }
    Objects.requireNonNull(estimation, "estimation");
    Objects.requireNonNull(inverse, "inverse");
    Objects.requireNonNull(conv, "conv");
    if (!(patchRowsPerDimension >= 0) || Double.isInfinite(patchRowsPerDimension)) {
      throw new IllegalArgumentException("patch rows per dimension must be finite and >= 0 (0 = "
          + "every patch row), got " + patchRowsPerDimension);
    }
    if (denseStatisticsSteps < 0) {
      throw new IllegalArgumentException("dense statistics steps must be >= 0, got "
          + denseStatisticsSteps);
    }
    if (statisticsExamples < 0) {
      throw new IllegalArgumentException("statistics examples must be >= 0 (0 = whole batch), "
          + "got " + statisticsExamples);
    }
  }

  /**
   * The defaults ({@code dks train --optimizer kfac} with no other flag): the TAT recipe with
   * K-FAC-reduce conv blocks (exact in front of a global average pool, where KFC-expand
   * underestimates the curvature by up to the number of locations), damping 1e-2 instead of 1e-3
   * (which diverges on such networks at batch 128), inverses every 10 steps instead of 50 (short
   * runs of a few hundred steps), and statistics every 2 steps ({@link #DEFAULT_CURVATURE_EVERY};
   * the EMA then decays by {@code 0.99^2} per update) from the first 32 examples of the batch
   * ({@link #DEFAULT_STATISTICS_EXAMPLES}, through the sub-batch copy of the forward pass, so
   * they cost 32 rows). Issue 16's goal was a K-FAC step within 1.2x SGD's with these defaults:
   * on the README's down-sampling CNN ({@code cnn}, batch 128) statistics every step from the
   * whole batch cost 1.6-1.9x SGD's CPU time per step, these 1.09-1.26x in four runs on a loaded
   * machine, about the goal (BENCHMARKS.md, session 19).
   * On both plain CNNs of the README they trained 300 no-flag steps on Fashion-MNIST without a
   * divergence (numbers in the README). Statistics every 5 steps (cheaper still) cost early
   * accuracy on the ResNet-50 layout and blew up on the 20 layers without down-sampling (with
   * or without a dense start, {@link #withDenseStatisticsSteps}), and a sub-batch with
   * statistics every step blew up there in 2 of 3 runs (sessions 17-18); {@code
   * withStatisticsExamples(0).withPeriods(1, 10)} ({@code --stats-examples 0 --curvature-every
   * 1}) gives the previous defaults. Everything else is the recipe's: EMA 0.99, burn-in 5, norm
   * constraint 1e-3, sampled targets, Cholesky, seed 0, fixed damping. Use with a peak learning
   * rate of 1e-3 ({@code OptimizerDefaults.kfac()}).
   */
  public static KfacOptions defaults() {
    return tatRecipe().withConv(ConvApproximation.REDUCE).withDamping(1e-2)
        .withPeriods(DEFAULT_CURVATURE_EVERY, 10)
        .withStatisticsExamples(DEFAULT_STATISTICS_EXAMPLES);
  }

  /** The statistics period of {@link #defaults()}. */
  public static final int DEFAULT_CURVATURE_EVERY = 2;

  /**
   * The statistics examples of {@link #defaults()}: the first this many of each batch (a batch of
   * at most this many uses all its rows).
   */
  public static final int DEFAULT_STATISTICS_EXAMPLES = 32;

  /**
   * The TAT recipe: EMA 0.99, statistics every step, inverses every 50 steps, burn-in 5, damping
   * 1e-3, norm constraint 1e-3, sampled targets, Cholesky, whole batch, seed 0, KFC-expand
   * conv blocks with every patch row ({@code dks train} samples {@code 3 d_A} rows instead:
   * {@code withPatchRowsPerDimension(3)}, a third of the step time on 28x28 maps).
   */
  public static KfacOptions tatRecipe() {
    return new KfacOptions(0.99, 1, 50, 5, 1e-3, 1e-3, FisherEstimation.SAMPLED,
        InverseMethod.CHOLESKY, 0, 0, ConvApproximation.EXPAND, 0,
        null, 0);
  }

  /** With another curvature EMA decay. */
  public KfacOptions withCurvatureEma(double rho) {
    return edited(e -> e.curvatureEma = rho);
  }

  /** With other statistics and inverse update periods. */
  public KfacOptions withPeriods(int curvature, int inverses) {
    return edited(e -> {
      e.curvatureEvery = curvature;
      e.inverseEvery = inverses;
    });
  }

  /** With another burn-in length. */
  public KfacOptions withBurnIn(int batches) {
    return edited(e -> e.burnIn = batches);
  }

  /** With another damping. */
  public KfacOptions withDamping(double lambda) {
    return edited(e -> e.damping = lambda);
  }

  /** With another norm constraint (0 = off). */
  public KfacOptions withNormConstraint(double cMax) {
    return edited(e -> e.normConstraint = cMax);
  }

  /** With another estimation mode. */
  public KfacOptions withEstimation(FisherEstimation mode) {
    return edited(e -> e.estimation = mode);
  }

  /** With another inverse method. */
  public KfacOptions withInverse(InverseMethod method) {
    return edited(e -> e.inverse = method);
  }

  /** Using only the first {@code n} examples of each batch for statistics (0 = all). */
  public KfacOptions withStatisticsExamples(int n) {
    return edited(e -> e.statisticsExamples = n);
  }

  /** With another sampling seed. */
  public KfacOptions withSeed(long s) {
    return edited(e -> e.seed = s);
  }

  /** With another conv block approximation. */
  public KfacOptions withConv(ConvApproximation approximation) {
    return edited(e -> e.conv = approximation);
  }

  /** With KFC-expand A statistics from {@code k d_A} sampled patch rows (0: every row). */
  public KfacOptions withPatchRowsPerDimension(double k) {
    return edited(e -> e.patchRowsPerDimension = k);
  }

  /** With statistics at every step below global step {@code steps} (0: the period throughout). */
  public KfacOptions withDenseStatisticsSteps(int steps) {
    return edited(e -> e.denseStatisticsSteps = steps);
  }

  /**
   * Whether global step {@code step} takes statistics: below {@link #denseStatisticsSteps()}
   * always, then at multiples of {@link #curvatureEvery()}.
   */
  public boolean statisticsAt(long step) {
    return step < denseStatisticsSteps || step % curvatureEvery == 0;
  }

  /** With Levenberg-Marquardt damping adaptation (null: fixed damping). */
  public KfacOptions withAdaptation(DampingAdaptation a) {
    return edited(e -> e.adaptation = a);
  }

  /** The fields of these options, to change some and build new (validated) options. */
  private static final class Editable {
    double curvatureEma;
    int curvatureEvery;
    int inverseEvery;
    int burnIn;
    double damping;
    double normConstraint;
    FisherEstimation estimation;
    InverseMethod inverse;
    int statisticsExamples;
    long seed;
    ConvApproximation conv;
    double patchRowsPerDimension;
    DampingAdaptation adaptation;
    int denseStatisticsSteps;
  }

  /** These options with the changes {@code edit} makes to a copy of their fields. */
  private KfacOptions edited(java.util.function.Consumer<Editable> edit) {
    Editable e = new Editable();
    e.curvatureEma = curvatureEma;
    e.curvatureEvery = curvatureEvery;
    e.inverseEvery = inverseEvery;
    e.burnIn = burnIn;
    e.damping = damping;
    e.normConstraint = normConstraint;
    e.estimation = estimation;
    e.inverse = inverse;
    e.statisticsExamples = statisticsExamples;
    e.seed = seed;
    e.conv = conv;
    e.patchRowsPerDimension = patchRowsPerDimension;
    e.adaptation = adaptation;
    e.denseStatisticsSteps = denseStatisticsSteps;
    edit.accept(e);
    return new KfacOptions(e.curvatureEma, e.curvatureEvery, e.inverseEvery, e.burnIn, e.damping,
        e.normConstraint, e.estimation, e.inverse, e.statisticsExamples, e.seed, e.conv,
        e.patchRowsPerDimension, e.adaptation, e.denseStatisticsSteps);
  }
}
