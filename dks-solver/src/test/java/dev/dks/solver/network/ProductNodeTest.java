package dev.dks.solver.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * A product node ({@link Dag.Kind#PRODUCT}) on the DAG {@code h = layer(x); g = layer(layer(h));
 * z = h * g} (a gate of two layers over the features h): its C map is the product of the factors'
 * C maps, checked against (1) a brute-force simulation with explicit random Gaussian weights in
 * plain Java (independent of the maps: the normalized inner product of the units of z over many
 * weight draws), with the equal-weight average the analysis used before as the negative control;
 * (2) the solvers' jet at c = 1 against finite differences of the hand-composed geometric mean of
 * the factors' maps (the part of the product the activations shape); (3) mu and kappa against
 * their closed forms {@code (x + x^3) / 2} and {@code 2 t}.
 */
class ProductNodeTest {
  /** The normalized ReLU C map (arc-cosine kernel of degree 1), closed form. */
  private static double reluC(double c) {
    return (Math.sqrt(1 - c * c) + (Math.PI - Math.acos(c)) * c) / Math.PI;
  }

  private static final double A = Math.asin(2.0 / 3);

  /** The smooth erf C map arcsin(2c/3) / arcsin(2/3). */
  private static double erfC(double c) {
    return Math.asin(2 * c / 3) / A;
  }

  private static Dag gate() {
    Dag.Builder b = Dag.builder();
    int h = b.layer(b.input());
    int g = b.layer(b.layer(h));
    b.affine(b.product(h, g));
    return b.build();
  }

  @Test
  void cMapOfTheProductMatchesRandomWeightsAndTheAverageDoesNot() {
    int n = 256;
    int draws = 60;
    SplittableRandom rng = new SplittableRandom(7);
    for (double c0 : new double[] {0.0, 0.5, 0.9}) {
      double predicted = gate().propagate(c0, new ScalarSemantics(ProductNodeTest::reluC));
      double c = 0;
      double q = 0;
      for (int d = 0; d < draws; d++) {
        double[][] x = pair(n, c0, rng);
        // the same weights for both inputs: drawn twice from the same seeds
        long s1 = rng.nextLong();
        long s2 = rng.nextLong();
        long s3 = rng.nextLong();
        double[][] hh = new double[2][];
        double[][] zz = new double[2][];
        for (int i = 0; i < 2; i++) {
          hh[i] = relu(dense(x[i], n, new SplittableRandom(s1)));
          double[] g = relu(dense(relu(dense(hh[i], n, new SplittableRandom(s2))), n,
              new SplittableRandom(s3)));
          zz[i] = new double[n];
          for (int k = 0; k < n; k++) {
            zz[i][k] = hh[i][k] * g[k];
          }
        }
        c += dot(zz[0], zz[1]) / Math.sqrt(dot(zz[0], zz[0]) * dot(zz[1], zz[1])) / draws;
        q += (dot(zz[0], zz[0]) + dot(zz[1], zz[1])) / (2.0 * n) / draws;
      }
      // q_z = q_h q_g = 1 (sqrt(2) ReLU keeps q = 1)
      assertEquals(1.0, q, 0.06, "q at c0 " + c0);
      assertEquals(predicted, c, 0.02, "c at c0 " + c0);
      double ch = reluC(c0);
      double average = (ch + reluC(reluC(ch))) / 2;
      assertTrue(Math.abs(average - c) > 0.05, "the average " + average + " vs " + c);
    }
  }

  @Test
  void jetOfTheProductIsTheDerivativeOfTheProductMap() {
    DoubleUnaryOperator z = c -> Math.sqrt(erfC(c) * erfC(erfC(erfC(c))));
    double h = 1e-3;
    double[] f = new double[6];
    for (int i = 0; i < f.length; i++) {
      f[i] = z.applyAsDouble(1 - i * h);
    }
    // fourth-order one-sided differences at 1
    double slope = (25 * f[0] - 48 * f[1] + 36 * f[2] - 16 * f[3] + 3 * f[4]) / (12 * h);
    double curvature = (45 * f[0] - 154 * f[1] + 214 * f[2] - 156 * f[3] + 61 * f[4]
        - 10 * f[5]) / (12 * h * h);
    double s1 = (2.0 / 3) / (A * Math.sqrt(1 - 4.0 / 9));
    double k1 = (2.0 / 3) * (4.0 / 9) / (A * Math.pow(1 - 4.0 / 9, 1.5));
    double[] jet = gate().propagate(new double[] {1, 0}, new JetSemantics(s1, k1));
    assertEquals(slope, jet[0], 1e-6);
    assertEquals(curvature, jet[1], 1e-4);
    // C map values through the DAG: the product itself
    assertEquals(erfC(0.3) * erfC(erfC(erfC(0.3))), gate().propagate(0.3,
        new ScalarSemantics(ProductNodeTest::erfC)), 1e-15);
  }

  @Test
  void networkFunctionsOfAProductHaveTheirClosedForms() {
    NetworkMaps m = NetworkMaps.of(gate());
    assertTrue(m.hasProducts());
    for (double x : new double[] {1.0, 1.1, 1.7}) {
      assertEquals((x + x * x * x) / 2, m.maxSlope(x), 1e-12);
    }
    for (double t : new double[] {0.0, 0.1, 0.3}) {
      // slopes 1: h (1, t), g (1, 3t), their geometric mean (1, 2t)
      assertEquals(2 * t, m.maxCurvature(t), 1e-12);
    }
    assertFalse(NetworkMaps.of(Architectures.plainChain(3)).hasProducts());
    assertThrows(IllegalArgumentException.class, () -> {
      Dag.Builder b = Dag.builder();
      b.product(b.input());
      b.build();
    });
  }

  private static double[][] pair(int n, double c, SplittableRandom rng) {
    double[] a = new double[n];
    double[] b = new double[n];
    for (int k = 0; k < n; k++) {
      a[k] = rng.nextGaussian();
      b[k] = rng.nextGaussian();
    }
    double aa = Math.sqrt(dot(a, a));
    for (int k = 0; k < n; k++) {
      a[k] /= aa;
    }
    double ab = dot(a, b);
    for (int k = 0; k < n; k++) {
      b[k] -= ab * a[k];
    }
    double bb = Math.sqrt(dot(b, b));
    double s = Math.sqrt(1 - c * c);
    double r = Math.sqrt(n);
    double[] x = new double[n];
    double[] y = new double[n];
    for (int k = 0; k < n; k++) {
      x[k] = r * a[k];
      y[k] = r * (c * a[k] + s * b[k] / bb);
    }
    return new double[][] {x, y};
  }

  /** W v with W of N(0, 1/n) entries drawn from {@code rng}. */
  private static double[] dense(double[] v, int n, SplittableRandom rng) {
    double[] out = new double[n];
    double sd = 1 / Math.sqrt(v.length);
    for (int i = 0; i < n; i++) {
      double s = 0;
      for (int k = 0; k < v.length; k++) {
        s += rng.nextGaussian() * sd * v[k];
      }
      out[i] = s;
    }
    return out;
  }

  /** sqrt(2) max(u, 0): Q(1) = 1. */
  private static double[] relu(double[] u) {
    double[] out = new double[u.length];
    for (int k = 0; k < u.length; k++) {
      out[k] = Math.sqrt(2) * Math.max(0, u[k]);
    }
    return out;
  }

  private static double dot(double[] a, double[] b) {
    double s = 0;
    for (int k = 0; k < a.length; k++) {
      s += a[k] * b[k];
    }
    return s;
  }
}
