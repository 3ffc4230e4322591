package dev.dks.solver.network;

import java.util.List;
import java.util.function.DoubleUnaryOperator;

/**
 * Scalar semantics of the reference's subnetwork-maximizing function {@code M(x, r)}: a nonlinear
 * layer applies r, normalized sums and concatenations average with weights, subnetworks take the
 * maximum.
 */
public record ScalarSemantics(DoubleUnaryOperator r) implements KernelSemantics<Double> {
  @Override
  public Double layer(Double input) {
    return r.applyAsDouble(input);
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
