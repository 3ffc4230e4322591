package dev.dks.solver.solve;

/**
 * The outcome of one local root solve.
 *
 * @param x the last iterate
 * @param residuals the residuals at x
 * @param converged true when max |residual| reached the tolerance
 * @param evaluations number of function evaluations used
 */
public record RootResult(double[] x, double[] residuals, boolean converged, int evaluations) {

  /** max_i |residuals[i]|, or +Infinity when a residual is not finite. */
  public double maxAbsResidual() {
    double m = 0;
    for (double r : residuals) {
      if (!Double.isFinite(r)) {
        return Double.POSITIVE_INFINITY;
      }
      m = Math.max(m, Math.abs(r));
    }
    return m;
  }
}
