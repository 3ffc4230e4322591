package dev.dks.solver.solve;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Tries the reference's ordered start points ({@link StartPoints}) with a local root solver until
 * one converges and is not rejected. Reference quirk kept on purpose: when only the last start
 * converges and is rejected, its solution is returned anyway, with a warning.
 */
final class RootSearch {
  /** Residual threshold for success: far below the 1e-9 the tests demand. */
  static final double RESIDUAL_TOLERANCE = 1e-12;

  private RootSearch() {}

  /** The outcome: the accepted point, its index, evaluations used, warnings. */
  record Outcome(double[] x, int startIndex, int evaluations, List<String> warnings) {}

  /**
   * Runs the search.
   *
   * @param reject true for converged points the method rejects (TAT: alpha * gamma &gt;= 2)
   * @param failure the message of the exception when no start succeeds
   */
  static Outcome run(
      VectorFunction residuals,
      List<Unknown> unknowns,
      Predicate<double[]> reject,
      String rejectReason,
      String failure) {
    return runFrom(residuals, StartPoints.forUnknowns(unknowns), reject, rejectReason, failure);
  }

  /**
   * Sets unknowns within 1e-9 of zero to exactly zero when the residuals still meet the tolerance
   * there (e.g. the leaky ReLU's input shift, which is exactly 0 at the root), so that reports do
   * not show round-off as a real shift.
   */
  private static double[] snapToZero(VectorFunction residuals, double[] x) {
    double[] y = x.clone();
    for (int j = 0; j < y.length; j++) {
      if (y[j] != 0 && Math.abs(y[j]) < 1e-9) {
        double saved = y[j];
        y[j] = 0.0;
        if (!(new RootResult(y, residuals.apply(y), true, 0).maxAbsResidual()
            <= RESIDUAL_TOLERANCE)) {
          y[j] = saved;
        }
      }
    }
    return y;
  }

  static Outcome runFrom(
      VectorFunction residuals,
      List<double[]> starts,
      Predicate<double[]> reject,
      String rejectReason,
      String failure) {
    int n = starts.get(0).length;
    LevenbergMarquardt lm = new LevenbergMarquardt(RESIDUAL_TOLERANCE, 200 * (n + 1), 1e4);
    int evaluations = 0;
    for (int i = 0; i < starts.size(); i++) {
      RootResult r = lm.solve(residuals, starts.get(i));
      evaluations += r.evaluations();
      if (!r.converged()) {
        continue;
      }
      double[] x = snapToZero(residuals, r.x());
      if (reject.test(x)) {
        if (i == starts.size() - 1) {
          List<String> warnings = new ArrayList<>();
          warnings.add("only the last start point converged and its solution is one the method "
              + "rejects (" + rejectReason + "); it is returned anyway, as the reference does: "
              + "consider another target or activation");
          return new Outcome(x, i, evaluations, warnings);
        }
        continue;
      }
      return new Outcome(x, i, evaluations, new ArrayList<>());
    }
    throw new NoRootFoundException(failure);
  }
}
