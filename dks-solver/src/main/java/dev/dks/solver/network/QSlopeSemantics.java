package dev.dks.solver.network;

import java.util.List;

/**
 * The network's Q'(1) (the slope of its Q map at q = 1, where every shaped activation has Q(1) =
 * 1) when every layer's Q'(1) is {@code layerSlope}, as {value at the node, largest value at any
 * node so far}. How a q error at the input grows: a layer multiplies it by its Q'(1), normalized
 * sums and concatenations average it with their fractions, and a product of streams ({@link
 * KernelSemantics#product}) adds its factors' slopes: {@code q_z = Q_a(q) Q_b(q)} with {@code
 * Q_a(1) = Q_b(1) = 1} has {@code Q_z'(1) = Q_a'(1) + Q_b'(1)}. So at DKS's local Q'(1) = 1 a gated
 * block (features times a gate computed from them) doubles a q error, and k such blocks in series
 * multiply it by 2^k: q = 1 is then an unstable fixed point, and the finite-width fluctuations of q
 * grow with the number of gates until the float32 range is exceeded (the TF.js model meet: 2^7 =
 * 128 at its seventh gate). Unlike the C map's squaring, this growth is within the activations'
 * reach: a local Q'(1) below 1 shrinks a q error between the gates.
 *
 * @param layerSlope every layer's Q'(1)
 */
public record QSlopeSemantics(double layerSlope) implements KernelSemantics<double[]> {
  /** The value at the input: slope 1. */
  public static double[] start() {
    return new double[] {1.0, 1.0};
  }

  private static double[] at(double v, double maxBefore) {
    return new double[] {v, Math.max(v, maxBefore)};
  }

  @Override
  public double[] layer(double[] input) {
    return at(layerSlope * input[0], input[1]);
  }

  @Override
  public double[] weightedAverage(double[] fractions, List<double[]> values) {
    double s = 0;
    double m = 0;
    for (int i = 0; i < fractions.length; i++) {
      s += fractions[i] * values.get(i)[0];
      m = Math.max(m, values.get(i)[1]);
    }
    return at(s, m);
  }

  @Override
  public double[] product(List<double[]> values) {
    double s = 0;
    double m = 0;
    for (double[] v : values) {
      s += v[0];
      m = Math.max(m, v[1]);
    }
    return at(s, m);
  }

  @Override
  public double[] max(List<double[]> values) {
    double v = Double.NEGATIVE_INFINITY;
    double m = Double.NEGATIVE_INFINITY;
    for (double[] x : values) {
      v = Math.max(v, x[0]);
      m = Math.max(m, x[1]);
    }
    return new double[] {v, m};
  }
}
