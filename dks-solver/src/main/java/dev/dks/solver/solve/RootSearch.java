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
      if (reject.test(r.x())) {
        if (i == starts.size() - 1) {
          List<String> warnings = new ArrayList<>();
          warnings.add("only the last start point converged and its solution is one the method "
              + "rejects (" + rejectReason + "); it is returned anyway, as the reference does: "
              + "consider another target or activation");
          return new Outcome(r.x(), i, evaluations, warnings);
        }
        continue;
      }
      return new Outcome(r.x(), i, evaluations, new ArrayList<>());
    }
    throw new NoRootFoundException(failure);
  }
}
