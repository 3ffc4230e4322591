package dev.dks.solver.network;

import java.util.List;
import java.util.function.DoubleUnaryOperator;
import java.util.function.IntFunction;

/**
 * Scalar semantics of the reference's subnetwork-maximizing function {@code M(x, r)}: a nonlinear
 * layer applies r, normalized sums and concatenations average with weights, subnetworks take the
 * maximum; a depthwise chain of n layers ({@link Dag.Node#chain}) applies {@code chains.apply(n)}
 * when given, else r n times.
 *
 * @param r the local map of one layer
 * @param chains the map of a chain of n layers, or null for the composition of r
 */
public record ScalarSemantics(DoubleUnaryOperator r, IntFunction<DoubleUnaryOperator> chains)
    implements KernelSemantics<Double> {
  /** Semantics with r at every layer, chains included. */
  public ScalarSemantics(DoubleUnaryOperator r) {
    this(r, null);
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
  public Double max(List<Double> values) {
    double m = Double.NEGATIVE_INFINITY;
    for (double v : values) {
      m = Math.max(m, v);
    }
    return m;
  }
}
