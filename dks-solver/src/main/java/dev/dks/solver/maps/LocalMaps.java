package dev.dks.solver.maps;

import dev.dks.solver.activation.Activation;
import dev.dks.solver.quadrature.GaussianNodes;
import dev.dks.solver.quadrature.GaussianQuadrature;

/**
 * The local Q map and C map of one activation phi (raw or shaped), with q values fixed to 1 as in
 * DKS/TAT. Definitions ({@code dks-math.md} section 1), z, z1, z2 ~ N(0,1) independent:
 *
 * <ul>
 *   <li>{@code Q(q) = E[phi(sqrt(q) z)^2]}, {@code Q'(1) = E[phi(z) phi'(z) z]};
 *   <li>{@code C(c) = E[phi(z1) phi(c z1 + sqrt(1 - c^2) z2)] / Q(1)} (uncentered; C(1) = 1);
 *   <li>{@code C(0) = E[phi]^2/Q(1)}, {@code C'(0) = E[phi']^2/Q(1)}, {@code C'(1) =
 *       E[phi'^2]/Q(1)}, {@code C''(1) = E[phi''^2]/Q(1)}.
 * </ul>
 *
 * C''(1) is {@code +Infinity} when phi' jumps (phi'' then holds a Dirac delta).
 */
public final class LocalMaps {
  private final Activation phi;
  private final GaussianQuadrature quadrature;
  private final GaussianMoments moments;

  private LocalMaps(Activation phi, GaussianQuadrature quadrature) {
    this.phi = phi;
    this.quadrature = quadrature;
    this.moments = GaussianMoments.of(phi, quadrature);
  }

  /** The maps of {@code phi} with the standard quadrature. */
  public static LocalMaps of(Activation phi) {
    return new LocalMaps(phi, GaussianQuadrature.standard());
  }

  /** The maps of {@code phi} with a given quadrature (for convergence studies). */
  public static LocalMaps of(Activation phi, GaussianQuadrature quadrature) {
    return new LocalMaps(phi, quadrature);
  }

  /** The activation these maps describe. */
  public Activation activation() {
    return phi;
  }

  /** The raw Gaussian moments. */
  public GaussianMoments moments() {
    return moments;
  }

  /** Q(1) = E[phi(z)^2]. */
  public double q1() {
    return moments.meanSquare();
  }

  /** Q'(1) = E[phi(z) phi'(z) z]. */
  public double qSlope1() {
    return moments.qSlopeMoment();
  }

  /** Q(q) = E[phi(sqrt(q) z)^2] for q &gt;= 0. */
  public double q(double q) {
    if (!(q >= 0)) {
      throw new IllegalArgumentException("q must be >= 0, got " + q);
    }
    if (q == 0) {
      double v = phi.value(0.0);
      return v * v;
    }
    double s = Math.sqrt(q);
    double[] kinks = phi.kinks();
    for (int i = 0; i < kinks.length; i++) {
      kinks[i] /= s;
    }
    GaussianNodes nodes = quadrature.nodes(kinks, phi.inputScaleMagnitude() * s);
    return nodes.mean(x -> {
      double v = phi.value(s * x);
      return v * v;
    });
  }

  /** C(0) = E[phi]^2 / Q(1). */
  public double c0() {
    return moments.mean() * moments.mean() / q1();
  }

  /** C'(0) = E[phi']^2 / Q(1). */
  public double cSlope0() {
    return moments.meanDerivative() * moments.meanDerivative() / q1();
  }

  /** C'(1) = E[phi'^2] / Q(1). */
  public double cSlope1() {
    return moments.meanSquareDerivative() / q1();
  }

  /** C''(1) = E[phi''^2] / Q(1); {@code +Infinity} when phi' jumps at a kink. */
  public double cCurvature1() {
    if (!phi.smoothness().hasFiniteCurvature()) {
      return Double.POSITIVE_INFINITY;
    }
    return moments.meanSquareSecondDerivative() / q1();
  }

  /**
   * Outer breakpoints for C(c): the kinks of phi(z1) and, for each kink k, a graded set around
   * z1 = k/c, where the inner expectation E[phi(c z1 + s z2)] turns within a width of about s/|c|.
   */
  private static double[] outerBreakpoints(double[] kinks, double c, double s) {
    if (kinks.length == 0 || c == 0) {
      return kinks;
    }
    double[] offsets = {-8, -4, -2, -1, -0.5, 0, 0.5, 1, 2, 4, 8};
    double[] out = new double[kinks.length * (offsets.length + 1)];
    int i = 0;
    for (double k : kinks) {
      out[i++] = k;
      for (double o : offsets) {
        out[i++] = k / c + o * s / Math.abs(c);
      }
    }
    return out;
  }

  /**
   * C(c) for c in [-1, 1] by a nested Gaussian rule: the inner expectation over z2 is split at the
   * kinks of {@code z2 -> phi(c z1 + s z2)}, s = sqrt(1 - c^2), for every outer node z1.
   */
  public double c(double c) {
    if (!(c >= -1 && c <= 1)) {
      throw new IllegalArgumentException("c must be in [-1, 1], got " + c);
    }
    if (c == 1.0) {
      return 1.0;
    }
    double[] kinks = phi.kinks();
    double scale = phi.inputScaleMagnitude();
    double s = Math.sqrt((1 - c) * (1 + c));
    if (s == 0) {
      // c == -1: E[phi(z) phi(-z)], kinked at k and at -k
      double[] both = new double[2 * kinks.length];
      for (int k = 0; k < kinks.length; k++) {
        both[2 * k] = kinks[k];
        both[2 * k + 1] = -kinks[k];
      }
      return quadrature.nodes(both, scale).mean(x -> phi.value(x) * phi.value(-x)) / q1();
    }
    GaussianNodes outer = quadrature.nodes(outerBreakpoints(kinks, c, s), scale);
    double sum = 0;
    double[] inner = new double[kinks.length];
    double[] ox = outer.x();
    double[] ow = outer.w();
    GaussianNodes smoothInner = quadrature.nodes(new double[0], scale * s);
    for (int i = 0; i < ox.length; i++) {
      double z1 = ox[i];
      double cz = c * z1;
      GaussianNodes in = smoothInner;
      if (kinks.length > 0) {
        for (int k = 0; k < kinks.length; k++) {
          inner[k] = (kinks[k] - cz) / s;
        }
        in = quadrature.nodes(inner, scale * s);
      }
      double[] ix = in.x();
      double[] iw = in.w();
      double acc = 0;
      for (int j = 0; j < ix.length; j++) {
        acc += iw[j] * phi.value(cz + s * ix[j]);
      }
      sum += ow[i] * phi.value(z1) * acc;
    }
    return sum / q1();
  }
}
