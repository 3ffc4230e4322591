package dev.dks.trainers.kfac;

/**
 * How K-FAC turns the Kronecker factors into a damped preconditioner.
 *
 * <p>The two factored methods use pi-adjusted Tikhonov damping: with {@code n_A = tr(A)/dim(A)},
 * {@code n_G = tr(G)/dim(G)}, {@code pi = sqrt(n_A / n_G)} (1 when a trace is 0) and the block's
 * damping {@code lambda_eff = (lambda + l2) / T} ({@code T} = output locations of a conv, 1 for a
 * dense layer), the block {@code T A (x) G + (lambda + l2) I} is approximated by
 * {@code T (A + pi sqrt(lambda_eff) I) (x) (G + sqrt(lambda_eff)/pi I)}. The inverses are cached
 * in variables and refreshed every {@code inverseEvery} steps, so the damping they contain is the
 * one of the refresh step.
 */
public enum InverseMethod {
  /** pi-adjusted damping, inverses by Cholesky and two triangular solves (the default). */
  CHOLESKY,
  /** pi-adjusted damping, inverses by LU ({@code MatrixInverse}). */
  LU,
  /**
   * Exact Tikhonov damping from eigendecompositions of A and G (eigenvalues clipped at 0):
   * {@code (T A (x) G + lambda I)^-1} exactly. The eigenvectors are cached; the damping is
   * applied every step, so it is never stale.
   */
  EIGEN
}
