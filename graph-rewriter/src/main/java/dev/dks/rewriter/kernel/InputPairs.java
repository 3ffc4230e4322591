package dev.dks.rewriter.kernel;

import java.util.SplittableRandom;

/** Pairs of random feature vectors with q = 1 (mean square 1) and an exact correlation c. */
final class InputPairs {
  private InputPairs() {}

  /**
   * Two vectors of length n with mean square 1 each and normalized inner product exactly c: v1 =
   * z1 scaled, v2 = c v1 + sqrt(1 - c^2) u with u orthogonal to v1 (Gram-Schmidt) of mean square 1.
   */
  static double[][] withCorrelation(int n, double c, SplittableRandom rng) {
    if (n < 2) {
      throw new IllegalArgumentException("the kernel check needs at least 2 input features");
    }
    double[] v1 = gaussian(n, rng);
    normalize(v1);
    double[] u = gaussian(n, rng);
    double dot = 0;
    for (int i = 0; i < n; i++) {
      dot += u[i] * v1[i];
    }
    for (int i = 0; i < n; i++) {
      u[i] -= dot / n * v1[i];
    }
    normalize(u);
    double s = Math.sqrt(1 - c * c);
    double[] v2 = new double[n];
    for (int i = 0; i < n; i++) {
      v2[i] = c * v1[i] + s * u[i];
    }
    return new double[][] {v1, v2};
  }

  private static double[] gaussian(int n, SplittableRandom rng) {
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      // Box-Muller
      double r = Math.sqrt(-2 * Math.log(1 - rng.nextDouble()));
      v[i] = r * Math.cos(2 * Math.PI * rng.nextDouble());
    }
    return v;
  }

  /** Scales v to mean square 1. */
  private static void normalize(double[] v) {
    double ms = 0;
    for (double x : v) {
      ms += x * x;
    }
    ms /= v.length;
    double f = 1 / Math.sqrt(ms);
    for (int i = 0; i < v.length; i++) {
      v[i] *= f;
    }
  }
}
