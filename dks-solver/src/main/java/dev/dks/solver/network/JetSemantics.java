package dev.dks.solver.network;

import java.util.List;
import java.util.function.IntFunction;

/**
 * Propagates the first two derivatives of C maps at c = 1 through a structure: each nonlinear
 * layer with local C'(1) = a and C''(1) = b maps a network's (slope s, curvature k) to {@code (a s,
 * b s^2 + a k)} (chain rule, using C(1) = 1); weighted averages are linear; a product of n streams
 * ({@link KernelSemantics#product}) is read as the geometric mean {@code G = (prod_i C_i)^(1/n)} of
 * the factors' maps, the part of the product the activations shape: from {@code (log G)' =
 * mean(s_i)} and {@code (log G)'' = mean(k_i - s_i^2)} at c = 1, slope {@code mean(s_i)} and
 * curvature {@code mean(k_i) - mean(s_i^2) + mean(s_i)^2} (two factors: {@code (k_a + k_b)/2 -
 * (s_a - s_b)^2/4});
 * the subnetwork maximum is taken per component. Start from {@code {1, 0}} (the identity map). A depthwise chain of n
 * layers ({@link Dag.Node#chain}) acts as one layer with the chain map's own {C'(1), C''(1)}
 * ({@code chainJet.apply(n)}) when given, else as n layers.
 *
 * @param localSlope C'(1) of one layer
 * @param localCurvature C''(1) of one layer
 * @param chainJet {C'(1), C''(1)} of a chain of n layers, or null for the composition
 */
public record JetSemantics(double localSlope, double localCurvature,
    IntFunction<double[]> chainJet) implements KernelSemantics<double[]> {
  /** Semantics with the same local values at every layer, chains included. */
  public JetSemantics(double localSlope, double localCurvature) {
    this(localSlope, localCurvature, null);
  }

  @Override
  public double[] chain(double[] in, int layers) {
    if (chainJet == null) {
      return KernelSemantics.super.chain(in, layers);
    }
    double[] j = chainJet.apply(layers);
    double s = in[0];
    double curvature = j[1] * s * s + j[0] * in[1];
    return new double[] {j[0] * s, curvature};
  }

  @Override
  public double[] layer(double[] in) {
    double s = in[0];
    double k = in[1];
    double curvature = localCurvature * s * s + localSlope * k;
    return new double[] {localSlope * s, curvature};
  }

  @Override
  public double[] weightedAverage(double[] fractions, List<double[]> values) {
    double s = 0;
    double k = 0;
    for (int i = 0; i < fractions.length; i++) {
      if (fractions[i] == 0) {
        continue; // a zero-weight branch contributes nothing, even an infinite curvature
      }
      s += fractions[i] * values.get(i)[0];
      k += fractions[i] * values.get(i)[1];
    }
    return new double[] {s, k};
  }

  @Override
  public double[] product(List<double[]> values) {
    int n = values.size();
    double s = 0;
    double k = 0;
    double squares = 0;
    for (double[] v : values) {
      s += v[0] / n;
      k += v[1] / n;
      squares += v[0] * v[0] / n;
    }
    return new double[] {s, k - squares + s * s};
  }

  @Override
  public double[] max(List<double[]> values) {
    double s = Double.NEGATIVE_INFINITY;
    double k = Double.NEGATIVE_INFINITY;
    for (double[] v : values) {
      s = Math.max(s, v[0]);
      k = Math.max(k, v[1]);
    }
    return new double[] {s, k};
  }
}
