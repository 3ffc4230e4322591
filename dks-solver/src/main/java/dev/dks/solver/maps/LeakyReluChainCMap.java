package dev.dks.solver.maps;

/**
 * The closed-form C map of a chain of n normalized leaky ReLUs {@code sqrt(2/(1+s^2)) LReLU_s}
 * joined by independent random signs, one per channel and link (Delta depthwise layers): the
 * leaky-ReLU case of {@link SignAveragedMaps}, exact and cheap enough for the TAT slope bisection.
 *
 * <p>Derivation. Every sign pattern p of the n - 1 links gives a positively homogeneous function
 * {@code g_p(z) = a_p max(z, 0) - b_p max(-z, 0)} (leaky ReLUs and signs keep that form), with
 * {@code (a_p, -b_p) = (g_p(1), g_p(-1))} found by pushing 1 and -1 through the chain. For unit
 * Gaussians x, y of correlation c, {@code J(c) = E[max(x,0) max(y,0)] = (sqrt(1 - c^2) + (pi -
 * arccos c) c) / (2 pi)} (the arc-cosine kernel of degree 1) and {@code E[max(x,0) max(-y,0)] =
 * J(-c)}, so {@code E[g_p(x) g_p(y)] = (a_p^2 + b_p^2) J(c) - 2 a_p b_p J(-c)} and {@code Q_p =
 * (a_p^2 + b_p^2) / 2}. The chain's map is {@code C(c) = sum_p E[g_p(x) g_p(y)] / sum_p Q_p} (the
 * channels' sums of products over their sums of squares) and its Q map is the identity with
 * factor {@code mean_p Q_p}, 1 for the normalized leaky ReLU (each layer keeps q over the signs).
 * For n = 1 this is {@link LeakyReluCMap}.
 */
public final class LeakyReluChainCMap {
  private final double negativeSlope;
  private final int layers;
  private final double same;
  private final double cross;
  private final double q;

  /**
   * The map of {@code layers} normalized leaky ReLUs of negative slope s.
   *
   * @param negativeSlope s, in [0, 1]
   * @param layers n, 1 to 16
   */
  public LeakyReluChainCMap(double negativeSlope, int layers) {
    if (layers < 1 || layers > 16) {
      throw new IllegalArgumentException("a chain has 1 to 16 layers, got " + layers);
    }
    this.negativeSlope = negativeSlope;
    this.layers = layers;
    double gamma = Math.sqrt(2 / (1 + negativeSlope * negativeSlope));
    double same = 0;
    double cross = 0;
    int patterns = 1 << (layers - 1);
    for (int mask = 0; mask < patterns; mask++) {
      double plus = leaky(gamma, 1.0);
      double minus = leaky(gamma, -1.0);
      for (int l = 0; l < layers - 1; l++) {
        double sign = ((mask >> l) & 1) == 0 ? 1.0 : -1.0;
        plus = leaky(gamma, sign * plus);
        minus = leaky(gamma, sign * minus);
      }
      double a = plus;
      double b = -minus;
      same += a * a + b * b;
      cross += 2 * a * b;
    }
    this.same = same;
    this.cross = cross;
    this.q = same / 2 / patterns;
  }

  private double leaky(double gamma, double x) {
    return gamma * (x >= 0 ? x : negativeSlope * x);
  }

  /** The negative slope s. */
  public double negativeSlope() {
    return negativeSlope;
  }

  /** The number of layers n. */
  public int layers() {
    return layers;
  }

  /** The chain's Q(1), the mean over sign patterns of E[g_p(z)^2]: 1 up to rounding. */
  public double q1() {
    return q;
  }

  /** The arc-cosine kernel J(c) = E[max(x, 0) max(y, 0)] of unit Gaussians with correlation c. */
  static double arcCosine(double c) {
    double x = Math.max(-1.0, Math.min(1.0, c));
    return (Math.sqrt(1 - x * x) + (Math.PI - Math.acos(x)) * x) / (2 * Math.PI);
  }

  /** C(c) of the chain, c clamped to [-1, 1]. */
  public double apply(double c) {
    if (same == 0) {
      return Double.NaN; // every channel is zero (slope 0 cannot do this; kept for safety)
    }
    return 2 * (same * arcCosine(c) - cross * arcCosine(-c)) / same;
  }
}
