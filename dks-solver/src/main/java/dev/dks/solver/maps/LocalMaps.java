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
  /** The Hermite coefficients of phi, computed on first use by {@link #c(double)}. */
  private volatile double[] hermite;

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
   * C(c) for c in [-1, 1]: for |c| up to {@value #SERIES_MAX_C} by the Hermite series ({@link
   * #cSeries}) when its tail bound is within 1e-15 of its value, else by the nested rule ({@link
   * #cNested}).
   */
  public double c(double c) {
    if (!(c >= -1 && c <= 1)) {
      throw new IllegalArgumentException("c must be in [-1, 1], got " + c);
    }
    if (c == 1.0) {
      return 1.0;
    }
    if (Math.abs(c) <= SERIES_MAX_C) {
      double v = cSeries(c);
      if (!Double.isNaN(v)) {
        return v;
      }
    }
    return cNested(c);
  }

  /** The largest |c| at which {@link #c(double)} tries the Hermite series. */
  static final double SERIES_MAX_C = 0.25;

  /** Hermite coefficients kept: the series' tail is at most |c|^(this) Q(1). */
  static final int SERIES_TERMS = 40;

  /**
   * C(c) by Mehler's formula, {@code C(c) = sum_n a_n^2 c^n / Q(1)} with {@code a_n = E[phi(z)
   * He_n(z)] / sqrt(n!)} (one Gaussian rule, split at phi's kinks, instead of {@link #cNested}'s
   * rule per outer node: the nested rule costs the square of the nodes, about 1.3e7 evaluations of
   * a chain of steep shaped activations). The neglected tail {@code sum_{n >= N} a_n^2 c^n} is at
   * most {@code |c|^N Q(1)}; NaN when that bound exceeds 1e-15 of the sum (then the nested rule).
   */
  double cSeries(double c) {
    double[] a = hermiteCoefficients();
    double sum = 0;
    double cn = 1;
    for (double an : a) {
      sum += an * an * cn;
      cn *= c;
    }
    double q = q1();
    if (!(Math.abs(cn) * q <= 1e-15 * Math.abs(sum))) {
      return Double.NaN;
    }
    return sum / q;
  }

  private double[] hermiteCoefficients() {
    if (hermite == null) {
      GaussianNodes nodes = quadrature.nodes(phi.kinks(), phi.inputScaleMagnitude());
      double[] x = nodes.x();
      double[] w = nodes.w();
      double[] a = new double[SERIES_TERMS];
      for (int i = 0; i < x.length; i++) {
        double wf = w[i] * phi.value(x[i]);
        double prev = 0; // normalized He_{n-1}(x) / sqrt((n-1)!)
        double h = 1; // He_n(x) / sqrt(n!)
        for (int n = 0; n < SERIES_TERMS; n++) {
          a[n] += wf * h;
          double next = (x[i] * h - Math.sqrt(n) * prev) / Math.sqrt(n + 1);
          prev = h;
          h = next;
        }
      }
      hermite = a;
    }
    return hermite;
  }

  /**
   * C(c) by the nested rule alone (what {@link #c(double)} falls back to away from c = 0): the
   * inner expectation over z2 is split at the kinks of {@code z2 -> phi(c z1 + s z2)}, s =
   * sqrt(1 - c^2), for every outer node z1.
   */
  public double cNested(double c) {
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
