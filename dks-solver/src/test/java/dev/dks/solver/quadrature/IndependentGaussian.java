package dev.dks.solver.quadrature;

import java.util.Arrays;
import java.util.function.DoubleUnaryOperator;

/**
 * A second, independent way to compute Gaussian expectations in tests: composite Boole rule
 * (Simpson with one Richardson step, error O(h^6)) on a fine uniform grid per smooth segment of
 * [-12, 12], and a plain trapezoid rule for smooth integrands (spectrally accurate for integrands
 * that decay like the normal density). Shares no code with {@link GaussianQuadrature} or {@link
 * GaussLegendreRule}; the density is evaluated here.
 */
public final class IndependentGaussian {
  /** Half-width of the integration interval; the N(0,1) mass beyond 12 is ~3.6e-33. */
  public static final double HALF_WIDTH = 12.0;

  private static final double INV_SQRT_2PI = 1.0 / Math.sqrt(2.0 * Math.PI);

  private IndependentGaussian() {}

  /** Integrand with several components evaluated at once. */
  @FunctionalInterface
  public interface VectorIntegrand {
    void eval(double x, double[] out);
  }

  /** The standard normal density, computed here. */
  public static double density(double x) {
    return INV_SQRT_2PI * Math.exp(-0.5 * x * x);
  }

  /** Composite Boole rule for f on [a, b] with n intervals (rounded up to a multiple of 4). */
  public static double boole(DoubleUnaryOperator f, double a, double b, int n) {
    double[] r = booleVector((x, o) -> o[0] = f.applyAsDouble(x), 1, a, b, n);
    return r[0];
  }

  /** Composite Boole rule, vector integrand with k components. */
  public static double[] booleVector(VectorIntegrand f, int k, double a, double b, int n) {
    int m = Math.max(4, ((n + 3) / 4) * 4);
    double h = (b - a) / m;
    double[] sum = new double[k];
    double[] v = new double[k];
    // endpoints are evaluated just inside [a, b], so that at a kink each segment sees its own
    // one-sided value (the O(eps) shift is far below the rule's error)
    double eps = 1e-13 * Math.max(1, Math.max(Math.abs(a), Math.abs(b)));
    for (int i = 0; i <= m; i++) {
      double x = i == 0 ? a + eps : i == m ? b - eps : a + i * h;
      double w;
      if (i == 0 || i == m) {
        w = 7;
      } else if (i % 2 == 1) {
        w = 32;
      } else if (i % 4 == 2) {
        w = 12;
      } else {
        w = 14; // shared endpoint of two Boole groups
      }
      f.eval(x, v);
      for (int j = 0; j < k; j++) {
        sum[j] += w * v[j];
      }
    }
    for (int j = 0; j < k; j++) {
      sum[j] *= 2 * h / 45;
    }
    return sum;
  }

  /**
   * {@code E[g_j(z)]} for the k components of g, split at {@code breakpoints} (kinks of g), with
   * grid step at most {@code h} on every segment of [-12, 12].
   */
  public static double[] means(VectorIntegrand g, int k, double[] breakpoints, double h) {
    double[] cuts = segmentCuts(breakpoints);
    double[] total = new double[k];
    double[] tmp = new double[k];
    for (int s = 0; s + 1 < cuts.length; s++) {
      double a = cuts[s];
      double b = cuts[s + 1];
      int n = (int) Math.ceil((b - a) / h);
      double[] part = booleVector((x, o) -> {
        g.eval(x, tmp);
        double d = density(x);
        for (int j = 0; j < k; j++) {
          o[j] = tmp[j] * d;
        }
      }, k, a, b, n);
      for (int j = 0; j < k; j++) {
        total[j] += part[j];
      }
    }
    return total;
  }

  /** {@code E[g(z)]}, split at breakpoints, grid step at most h. */
  public static double mean(DoubleUnaryOperator g, double[] breakpoints, double h) {
    return means((x, o) -> o[0] = g.applyAsDouble(x), 1, breakpoints, h)[0];
  }

  /** {@code E[g(z)]} for a smooth g by the trapezoid rule with step h on [-L, L]. */
  public static double trapezoidMean(DoubleUnaryOperator g, double h, double halfWidth) {
    int n = (int) Math.round(2 * halfWidth / h);
    double step = 2 * halfWidth / n;
    double s = 0;
    for (int i = 1; i < n; i++) {
      double x = -halfWidth + i * step;
      s += g.applyAsDouble(x) * density(x);
    }
    return s * step;
  }

  private static double[] segmentCuts(double[] breakpoints) {
    double[] b = breakpoints.clone();
    Arrays.sort(b);
    double[] cuts = new double[b.length + 2];
    int m = 0;
    cuts[m++] = -HALF_WIDTH;
    for (double x : b) {
      if (x > cuts[m - 1] && x < HALF_WIDTH) {
        cuts[m++] = x;
      }
    }
    cuts[m++] = HALF_WIDTH;
    return Arrays.copyOf(cuts, m);
  }
}
