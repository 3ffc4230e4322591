package dev.dks.solver.solve;

import java.util.function.DoubleUnaryOperator;

/**
 * The reference's scalar solver for an increasing function ({@code dks-math.md} section 7.1),
 * step for step so that the same root is returned: up to {@code maxEvaluations} times, evaluate
 * {@code v = fn(x)}; return x when {@code |v - target| < tol}; if {@code v > target} set {@code hi
 * = x, x = (x + lo)/2}, else {@code lo = x} and double x while hi is infinite, otherwise {@code x =
 * (x + hi)/2}.
 */
public final class Bisection {
  /** The reference's tolerance on |fn(x) - target|. */
  public static final double DEFAULT_TOLERANCE = 1e-8;
  /** The reference's evaluation budget. */
  public static final int DEFAULT_MAX_EVALUATIONS = 100;

  private Bisection() {}

  /**
   * Solves {@code fn(x) = target} for increasing fn.
   *
   * @param hi upper bound, may be {@code Double.POSITIVE_INFINITY}
   * @param unreachableMessage the message of the exception thrown when the budget runs out
   * @throws UnreachableTargetException after {@code maxEvaluations} evaluations without success
   */
  public static double solveIncreasing(
      DoubleUnaryOperator fn,
      double target,
      double x0,
      double lo,
      double hi,
      double tol,
      int maxEvaluations,
      String unreachableMessage) {
    double x = x0;
    for (int i = 0; i < maxEvaluations; i++) {
      double v = fn.applyAsDouble(x);
      if (Math.abs(v - target) < tol) {
        return x;
      }
      if (v > target) {
        hi = x;
        x = (x + lo) / 2.0;
      } else {
        lo = x;
        x = hi == Double.POSITIVE_INFINITY ? 2.0 * x : (x + hi) / 2.0;
      }
    }
    throw new UnreachableTargetException(unreachableMessage);
  }
}
