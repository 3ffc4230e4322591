package dev.dks.rewriter;

import dev.dks.solver.init.HomogeneousMode;
import dev.dks.solver.solve.DksTargets;
import dev.dks.solver.solve.Method;
import dev.dks.solver.solve.TatTargets;

/**
 * What the DKS/TAT rewrite does.
 *
 * @param method DKS or TAT (default TAT)
 * @param dks DKS targets (zeta 1.5)
 * @param tat TAT targets (eta 0.9, tau 0.3)
 * @param activation the activation every activation becomes, or null for the per-kind defaults
 *     of {@link dev.dks.rewriter.passes.dks.ActivationPolicy}
 * @param shortcutWeight 0 removes skip connections; w in (0, 1] keeps them as normalized sums
 * @param keepMaxPool keep max-pooling instead of replacing it by average pooling
 * @param seed seed of the DKS initialization
 * @param inputNormalization the per-location input normalization put in front of the network
 *     (its homogeneous-coordinate mode), or null for none; default ONE
 */
public record RewriteOptions(
    Method method,
    DksTargets dks,
    TatTargets tat,
    String activation,
    double shortcutWeight,
    boolean keepMaxPool,
    long seed,
    HomogeneousMode inputNormalization) {

  /**
   * TAT with the defaults, skips removed, max-pools replaced, seed 0, PLN with a one. The TAT
   * target is eta 0.9 under the auto rule ({@link TatTargets#autoEta}): a network too shallow to
   * reach C(0) = 0.9 (a few nonlinear layers) gets the largest C(0) it reaches (ReLU, TReLU slope
   * 0) with a warning, instead of a refusal; deeper networks get exactly 0.9.
   */
  public static RewriteOptions defaults() {
    return new RewriteOptions(Method.TAT, DksTargets.defaults(),
        TatTargets.autoEta(TatTargets.DEFAULT_TAU), null, 0.0,
        false, 0L, HomogeneousMode.ONE);
  }

  /** A copy with another method. */
  public RewriteOptions withMethod(Method m) {
    return new RewriteOptions(m, dks, tat, activation, shortcutWeight, keepMaxPool, seed,
        inputNormalization);
  }

  /** A copy with every activation replaced by {@code a} (null: per-kind defaults). */
  public RewriteOptions withActivation(String a) {
    return new RewriteOptions(method, dks, tat, a, shortcutWeight, keepMaxPool, seed,
        inputNormalization);
  }

  /** A copy with another shortcut weight. */
  public RewriteOptions withShortcutWeight(double w) {
    return new RewriteOptions(method, dks, tat, activation, w, keepMaxPool, seed,
        inputNormalization);
  }

  /** A copy with another input normalization (null: none). */
  public RewriteOptions withInputNormalization(HomogeneousMode mode) {
    return new RewriteOptions(method, dks, tat, activation, shortcutWeight, keepMaxPool, seed,
        mode);
  }

  /** A copy with another seed. */
  public RewriteOptions withSeed(long s) {
    return new RewriteOptions(method, dks, tat, activation, shortcutWeight, keepMaxPool, s,
        inputNormalization);
  }

  /** A copy with other targets. */
  public RewriteOptions withTargets(DksTargets d, TatTargets t) {
    return new RewriteOptions(method, d, t, activation, shortcutWeight, keepMaxPool, seed,
        inputNormalization);
  }

  /** A copy that keeps or replaces max-pools. */
  public RewriteOptions withKeepMaxPool(boolean keep) {
    return new RewriteOptions(method, dks, tat, activation, shortcutWeight, keep, seed,
        inputNormalization);
  }
}
