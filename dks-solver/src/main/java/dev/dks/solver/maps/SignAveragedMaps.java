package dev.dks.solver.maps;

import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.ComposedActivation;
import java.util.ArrayList;
import java.util.List;

/**
 * The kernel maps of a chain of activation layers joined by linear ops that do not mix channels,
 * each such op multiplying a channel by an independent Haar-random sign (a Delta-initialized
 * depthwise convolution with channel multiplier 1: one live tap, +1 or -1 per channel).
 *
 * <p>Why: the local C map of an activation assumes a Gaussian pre-activation, which a mixing layer
 * (a dense kernel, or a convolution over many input channels) provides at large width. A
 * depthwise layer does not mix: channel k of the second layer's pre-activation is {@code s_k
 * phi1(z_k)}, the first layer's output itself. The pair then acts per channel as the one function
 * {@code g_s = phi2(s phi1(.))} of the Gaussian z, and the channels average over the two signs:
 *
 * <pre>
 *   Q = mean over s of Q_s(1),   Q_s(1) = E[g_s(z)^2]
 *   C(c) = sum over s of Q_s(1) C_s(c) / sum over s of Q_s(1)
 * </pre>
 *
 * with {@code C_s} the local C map of {@code g_s} ({@link LocalMaps}), and likewise over the
 * 2^(n-1) sign patterns of a chain of n layers. For TAT's leaky ReLU (slope a, output scale
 * sqrt(2 / (1 + a^2))) the pair is, per sign, again a leaky ReLU (s = +1: slope a^2, scale 2 / (1 +
 * a^2)) or linear (s = -1: slope -2a / (1 + a^2)), so that Q = 1 exactly and {@code C(c) = c + K
 * (sqrt(1 - c^2) - c arccos c)} with {@code K = (1 - a^2)^2 / (pi (1 + a^2)^2)}: C(0) = K, lower
 * than the composition C(C(0)) of the two layers' maps (at MobileNetV2's a = 0.351: 0.194 against
 * 0.218).
 *
 * <p>The C map, {@link #q1()} and the jets at c = 1 take q = 1 at the chain's input, as in
 * {@link LocalMaps}; {@link #q(double)} follows another input q through the chain.
 */
public final class SignAveragedMaps {
  /** The longest chain averaged over all its sign patterns (2^(n-1) compositions). */
  public static final int MAX_CHAIN = 4;

  private final List<LocalMaps> patterns;
  private final double[] q1;
  private final double qMean;

  private SignAveragedMaps(List<LocalMaps> patterns) {
    this.patterns = patterns;
    this.q1 = new double[patterns.size()];
    double s = 0;
    for (int i = 0; i < q1.length; i++) {
      q1[i] = patterns.get(i).q1();
      s += q1[i];
    }
    this.qMean = s / q1.length;
  }

  /**
   * The maps of {@code chain.get(n-1)(s_{n-1} ... chain.get(1)(s_1 chain.get(0)(z)))} averaged
   * over the signs.
   *
   * @param chain the activations in the order they are applied, 2 to {@value #MAX_CHAIN} of them
   */
  public static SignAveragedMaps of(List<Activation> chain) {
    if (chain.size() < 2 || chain.size() > MAX_CHAIN) {
      throw new IllegalArgumentException("a sign-averaged chain has 2 to " + MAX_CHAIN
          + " activations, got " + chain.size());
    }
    int links = chain.size() - 1;
    List<LocalMaps> maps = new ArrayList<>();
    for (int mask = 0; mask < (1 << links); mask++) {
      Activation g = chain.get(0);
      for (int l = 0; l < links; l++) {
        double sign = ((mask >> l) & 1) == 0 ? 1.0 : -1.0;
        g = new ComposedActivation(g, sign, chain.get(l + 1));
      }
      maps.add(LocalMaps.of(g));
    }
    return new SignAveragedMaps(maps);
  }

  /** The mean square of the chain's output over the channels for a unit Gaussian input. */
  public double q1() {
    return qMean;
  }

  /**
   * The mean square of the chain's output over the channels for a Gaussian input of mean square
   * q &gt;= 0 (the mean over the sign patterns of their Q maps; {@link #q1()} at q = 1).
   */
  public double q(double q) {
    double s = 0;
    for (LocalMaps p : patterns) {
      s += p.q(q);
    }
    return s / patterns.size();
  }

  /** C'(1) of the chain's C map: the sign patterns' C'(1) averaged with the weights Q_s(1). */
  public double cSlope1() {
    return weighted(LocalMaps::cSlope1);
  }

  /** C''(1) of the chain's C map, weighted as {@link #cSlope1()}; infinite when a phi' jumps. */
  public double cCurvature1() {
    return weighted(LocalMaps::cCurvature1);
  }

  private double weighted(java.util.function.ToDoubleFunction<LocalMaps> value) {
    double num = 0;
    double den = 0;
    for (int i = 0; i < q1.length; i++) {
      if (q1[i] == 0) {
        continue;
      }
      num += q1[i] * value.applyAsDouble(patterns.get(i));
      den += q1[i];
    }
    return num / den;
  }

  /** The chain's C map (see the class comment), for c in [-1, 1]. */
  public double c(double c) {
    double num = 0;
    double den = 0;
    for (int i = 0; i < q1.length; i++) {
      if (q1[i] == 0) {
        continue; // a pattern that zeroes its channels (ReLU after a -1 sign) adds nothing
      }
      num += q1[i] * patterns.get(i).c(c);
      den += q1[i];
    }
    return num / den;
  }
}
