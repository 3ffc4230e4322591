package dev.dks.solver.quadrature;

/**
 * A node set for expectations over a standard normal variable: {@code E[g(z)] ~ sum_i w_i
 * g(x_i)}, where the weights already contain the N(0,1) density (they sum to 1 up to the
 * truncated tails).
 *
 * @param x nodes, ascending
 * @param w weights, density included
 */
public record GaussianNodes(double[] x, double[] w) {

  /** Number of nodes. */
  public int size() {
    return x.length;
  }

  /** {@code sum_i w_i g(x_i)}. */
  public double mean(java.util.function.DoubleUnaryOperator g) {
    double s = 0;
    for (int i = 0; i < x.length; i++) {
      s += w[i] * g.applyAsDouble(x[i]);
    }
    return s;
  }
}
