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
   * {@link #EXPAND}'s (one row per example instead of one per location).
   */
  REDUCE
}
