package dev.dks.solver.solve;

/** A function from R^n to R^n (the residuals of n conditions in n unknowns). */
@FunctionalInterface
public interface VectorFunction {
  /** The residuals at x; may contain NaN or infinities where the function is undefined. */
  double[] apply(double[] x);
}
