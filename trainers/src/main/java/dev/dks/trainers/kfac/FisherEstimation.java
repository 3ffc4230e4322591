package dev.dks.trainers.kfac;

/**
 * Which curvature the K-FAC statistics estimate: how the backward pass that produces the
 * per-example layer-output gradients {@code g} is seeded at the logits {@code z} (softmax
 * cross-entropy, {@code p = softmax(z)}, K classes). Every seed is per example (the gradient of
 * the <i>summed</i> loss, never of the mean), so {@code G = g^T g / B} is an average of
 * per-example outer products.
 */
public enum FisherEstimation {
  /**
   * The true Fisher from one sampled target per example: {@code y ~ Categorical(p)}, seed
   * {@code p - onehot(y)}. Unbiased; the target is drawn by {@code StatelessMultinomial} with a
   * seed derived from the step, so runs and resumes are reproducible. The default.
   */
  SAMPLED,
  /**
   * Curvature propagation: seed {@code sqrt(p) * r - p * (sqrt(p) . r)} with Rademacher
   * {@code r}; unbiased for the same matrix as {@link #SAMPLED}.
   */
  CURVATURE_PROP,
  /**
   * The empirical Fisher from the real labels, seed {@code p - y}. Biased (it is not the
   * curvature); offered for comparison only.
   */
  EMPIRICAL,
  /**
   * The exact expectation over targets: K backward passes with seeds
   * {@code sqrt(p_k) (p - e_k)}. K times the cost; for tests and small heads. Exact for the
   * Kronecker-factored blocks; the diagonal blocks, which square a batch-summed gradient, get each
   * example's seeds multiplied by a random sign so that cross-example terms vanish in expectation
   * (exact for one example).
   */
  EXACT
}
