package dev.dks.solver.network;

import java.util.List;
import java.util.function.DoubleUnaryOperator;
import java.util.function.IntFunction;
import java.util.function.ToDoubleFunction;

/**
 * Scalar semantics of the reference's subnetwork-maximizing function {@code M(x, r)}: a nonlinear
 * layer applies r, normalized sums and concatenations average with weights, subnetworks take the
 * maximum; a depthwise chain of n layers ({@link Dag.Node#chain}) applies {@code chains.apply(n)}
 * when given, else r n times. A product of streams ({@link KernelSemantics#product}) combines the
 * factors' values with {@code product}: their product for C values (the default: C maps
 * multiply), their mean for the reference's slope and curvature functions {@code M(1, y -> x y)}
 * and {@code M(0, y -> x + y)} ({@link #forDerivatives}: the product's geometric-mean part, whose
 * C'(1) is the mean of the factors' and, when those are all 1, its C''(1) the mean of theirs).
 *
 * @param r the local map of one layer
 * @param chains the map of a chain of n layers, or null for the composition of r
 * @param product how a product node combines its factors' values (all of them at once)
 */
public record ScalarSemantics(DoubleUnaryOperator r, IntFunction<DoubleUnaryOperator> chains,
    ToDoubleFunction<double[]> product) implements KernelSemantics<Double> {
  /** Semantics with r at every layer, chains included, for C values (products multiply). */
  public ScalarSemantics(DoubleUnaryOperator r) {
    this(r, null);
  }

  /** Semantics for C values (products multiply) with the given chain maps. */
  public ScalarSemantics(DoubleUnaryOperator r, IntFunction<DoubleUnaryOperator> chains) {
    this(r, chains, v -> {
      double p = 1;
      for (double x : v) {
        p *= x;
      }
      return p;
    });
  }

  /**
   * Semantics for the maximal slope and curvature functions: a product takes the mean of its
   * factors' values (see the class comment).
   */
  public static ScalarSemantics forDerivatives(DoubleUnaryOperator r) {
    return new ScalarSemantics(r, null, v -> {
      double m = 0;
      for (double x : v) {
        m += x / v.length;
      }
      return m;
    });
  }

  @Override
  public Double layer(Double input) {
    return r.applyAsDouble(input);
  }

  @Override
  public Double chain(Double input, int layers) {
    if (chains == null) {
      return KernelSemantics.super.chain(input, layers);
    }
    return chains.apply(layers).applyAsDouble(input);
  }

  @Override
  public Double weightedAverage(double[] fractions, List<Double> values) {
    double s = 0;
    for (int i = 0; i < fractions.length; i++) {
      if (fractions[i] != 0) {
        s += fractions[i] * values.get(i);
      }
    }
    return s;
  }

  @Override
  public Double product(List<Double> values) {
    double[] v = new double[values.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = values.get(i);
    }
    return product.applyAsDouble(v);
  }

  @Override
  public Double max(List<Double> values) {
    double m = Double.NEGATIVE_INFINITY;
    for (double v : values) {
      m = Math.max(m, v);
    }
    return m;
  }
}
