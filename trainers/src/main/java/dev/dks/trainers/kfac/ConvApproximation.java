package dev.dks.trainers.kfac;

/**
 * How a Conv2D block treats the weight sharing over the T output locations (Eschenhagen et al.
 * 2023, "Kronecker-Factored Approximate Curvature for Modern Neural Network Architectures").
 * With patch rows {@code a_t} and output gradients {@code g_t} of one example, the per-example
 * kernel gradient is {@code sum_t a_t g_t^T}.
 */
public enum ConvApproximation {
  /**
   * KFC / K-FAC-expand (Grosse and Martens 2016): locations are treated as independent examples,
   * {@code F ~ T A (x) G} with A, G averaged over examples and locations, damping
   * {@code lambda / T} inside the factors. Exact when the output gradients are uncorrelated over
   * locations; underestimates the curvature by up to a factor T when they are alike, as they are
   * in front of a global average pool. The default (the TAT recipe's).
   */
  EXPAND,
  /**
   * K-FAC-reduce: {@code F ~ A_r (x) G_r} with {@code A_r} the second moment of the per-example
   * mean patch and {@code G_r} that of the per-example sum of output gradients. Exact for a
   * linear conv followed by a global average pool; its statistics cost T times less than
   * {@link #EXPAND}'s (one row per example instead of one per location). Underestimates the
   * curvature in the patch directions whose mean over locations is small (edges, contrasts) when
   * the output gradients differ between locations, as they do behind further nonlinear layers.
   */
  REDUCE,
  /**
   * {@code F ~ A_e (x) G_r}: KFC-expand's input factor {@code A_e} (patch second moment averaged
   * over examples and locations; sampled rows allowed) with K-FAC-reduce's output factor
   * {@code G_r} (per-example sum of output gradients over locations), no factor T. Since
   * {@code A_e >= A_r} (the mean of {@code a_t a_t^T} dominates the square of the mean patch), it
   * is never below {@link #REDUCE}'s block; it equals the exact block both when the output
   * gradients are alike over locations in the pooled direction ({@code A_e = A_r} there) and when
   * they are independent and zero-mean over locations (then {@code G_r = T G_e}, i.e.
   * {@link #EXPAND}'s block). On the 20-layer TAT CNN (Fashion-MNIST, lr 1e-3) it removed
   * the loss spikes K-FAC-reduce shows below loss 2 but trained slower, and at lr 3e-3 it spiked
   * too (README), so it is an option, not the default.
   */
  HYBRID
}
