package dev.dks.solver.network;

import java.util.List;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import java.util.function.IntFunction;

/**
 * Scalar semantics of the reference's subnetwork-maximizing function {@code M(x, r)}: a nonlinear
 * layer applies r, normalized sums and concatenations average with weights, subnetworks take the
 * maximum; a depthwise chain of n layers ({@link Dag.Node#chain}) applies {@code chains.apply(n)}
 * when given, else r n times. A product of streams ({@link KernelSemantics#product}) combines the
 * factors' values with {@code product}: multiplication for C values and kernel values (the
 * default), addition for C'(1) slopes ({@link #forSlopes}).
 *
 * @param r the local map of one layer
 * @param chains the map of a chain of n layers, or null for the composition of r
 * @param product how a product node combines two factors' values
 */
public record ScalarSemantics(DoubleUnaryOperator r, IntFunction<DoubleUnaryOperator> chains,
    DoubleBinaryOperator product) implements KernelSemantics<Double> {
  /** Semantics with r at every layer, chains included, for C values (products multiply). */
  public ScalarSemantics(DoubleUnaryOperator r) {
    this(r, null);
  }

  /** Semantics for C values (products multiply) with the given chain maps. */
  public ScalarSemantics(DoubleUnaryOperator r, IntFunction<DoubleUnaryOperator> chains) {
    this(r, chains, (a, b) -> a * b);
  }

  /**
   * Semantics for C'(1) slopes (the reference's {@code M(1, y -> x y)}): a product's slope is the
   * sum of its factors' ({@code (C_a C_b)'(1) = C_a'(1) + C_b'(1)}).
   */
  public static ScalarSemantics forSlopes(DoubleUnaryOperator r) {
    return new ScalarSemantics(r, null, Double::sum);
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
    double v = values.get(0);
    for (int i = 1; i < values.size(); i++) {
      v = product.applyAsDouble(v, values.get(i));
    }
    return v;
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
