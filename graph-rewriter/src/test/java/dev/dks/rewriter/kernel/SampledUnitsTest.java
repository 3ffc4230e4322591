package dev.dks.rewriter.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.activation.ShapingParams;
import dev.dks.solver.activation.TransformedActivation;
import dev.dks.solver.maps.LocalMaps;
import dev.dks.solver.network.Dag;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The unit-by-unit prediction of a ResNet v1 block with an identity shortcut (weight w = 0.8),
 * against Gauss-Hermite product rules written here: the post-add activation reads {@code w *
 * phi(z) + sqrt(1 - w^2) * g}, which is not Gaussian, so its q is not the 1 the local maps
 * predict (the negative control) but E[phi(w phi(z) + s g)^2] = 1.0859 for the DKS tanh of a
 * built ResNet-18 v1 (its shaping record's parameters; sampled 1.084), and c from input c 0.5 is
 * 0.4746 (sampled 0.4742; the maps' 0.4798).
 */
class SampledUnitsTest {
  /** The DKS tanh (zeta 1.5) of {@code dks build --arch resnet --depth 18 --v1 --shortcut-weight 0.8}. */
  private static final Activation PHI = new TransformedActivation(Activations.byName("tanh"),
      ShapingParams.of(0.2700950230537588, 0.6367228522046653, -0.5366276021186666,
          5.371974502435377));
  private static final double W = 0.8;
  private static final double S = Math.sqrt(1 - W * W);

  /**
   * input, stem conv (1), stem act (2), conv_0 (3), act_0 (4), conv_1 (5), merge (6), out_act (7);
   * {@code identity}: the shortcut is the stem act itself, else a 1x1 projection of it (8).
   */
  private static Dag block(boolean identity) {
    Dag.Builder b = Dag.builder();
    int stem = b.layer(b.affine(b.input()));
    int r = b.affine(b.layer(b.affine(stem)));
    if (identity) {
      b.layer(b.normalizedSum(new double[] {W, S}, stem, r));
    } else {
      int p = b.affine(stem);
      b.layer(b.normalizedSum(new double[] {W, S}, p, r));
    }
    return b.build();
  }

  private static SampledUnits.Layout layout(Dag dag, int... mixing) {
    boolean[] m = new boolean[dag.nodes().size()];
    for (int i : mixing) {
      m[i] = true;
    }
    return new SampledUnits.Layout(m, new boolean[m.length], false);
  }

  @Test
  void identityShortcutBlockMatchesQuadrature() {
    Dag dag = block(true);
    SampledUnits.Layout layout = layout(dag, 1, 3, 5);
    assertTrue(SampledUnits.needed(dag, layout, 1));
    assertFalse(SampledUnits.needed(dag,
        new SampledUnits.Layout(layout.mixing(), layout.concat(), true), 1),
        "a DAG with a depthwise convolution keeps its own predictions");
    LocalMaps maps = LocalMaps.of(PHI);
    Map<Integer, LocalMaps> layerMaps = Map.of(2, maps, 4, maps, 7, maps);
    for (double c0 : new double[] {0.5, 0.9}) {
      SampledUnits.Prediction p = SampledUnits.predict(dag, layerMaps, layout, 0, 1, c0);
      double[] hand = handBlock(c0);
      assertEquals(hand[0], p.q()[7], 0.01, "q after the merge's activation at c0 " + c0);
      assertEquals(hand[1], p.c()[7], 0.002, "c after the merge's activation at c0 " + c0);
      // negative control: the local maps (Gaussian input) say q = 1 (and, at c0 0.5, a c
      // larger by 0.005; by 0.002 at 0.9)
      double gaussianC = maps.c(W * W * maps.c(c0) + S * S * maps.c(maps.c(c0)));
      assertTrue(Math.abs(hand[0] - 1) > 0.05, "q by quadrature " + hand[0]);
      if (c0 == 0.5) {
        assertTrue(Math.abs(hand[1] - gaussianC) > 0.004, "c by quadrature " + hand[1]
            + " against the Gaussian maps' " + gaussianC);
      }
    }
  }

  @Test
  void projectionShortcutIsGaussianAndNotSampled() {
    Dag dag = block(false);
    assertFalse(SampledUnits.needed(dag, layout(dag, 1, 3, 5, 6), 1));
  }

  /**
   * {q, c} after the block's out_act by product Gauss-Hermite rules: the stem pre-activations
   * (z, z') have q 1 and correlation c0; the residual (g, g') is Gaussian, independent of them,
   * with the second moments of phi applied to a Gaussian with the stem activation's moments.
   */
  private static double[] handBlock(double c0) {
    double[][] gh = gaussHermite(40);
    double[] x = gh[0];
    double[] wt = gh[1];
    // stem act: E[phi(z)^2], E[phi(z) phi(z')]
    double[] stem = pairMoments(1, 1, c0, x, wt);
    // act_0 reads a Gaussian with the stem act's moments; conv_1 keeps them
    double[] res = pairMoments(stem[0], stem[1], stem[2] / Math.sqrt(stem[0] * stem[1]), x, wt);
    double rq = res[0];
    double rc = res[2] / Math.sqrt(res[0] * res[1]);
    double sr = Math.sqrt((1 - rc) * (1 + rc));
    double sc = Math.sqrt((1 - c0) * (1 + c0));
    double qq = 0;
    double q2 = 0;
    double k = 0;
    int n = x.length;
    for (int a = 0; a < n; a++) {
      for (int b = 0; b < n; b++) {
        double z = x[a];
        double z2 = c0 * x[a] + sc * x[b];
        double sx = PHI.value(z);
        double sy = PHI.value(z2);
        double wab = wt[a] * wt[b];
        for (int c = 0; c < n; c++) {
          for (int d = 0; d < n; d++) {
            double g = Math.sqrt(rq) * x[c];
            double g2 = Math.sqrt(rq) * (rc * x[c] + sr * x[d]);
            double u = PHI.value(W * sx + S * g);
            double v = PHI.value(W * sy + S * g2);
            double ww = wab * wt[c] * wt[d];
            qq += ww * u * u;
            q2 += ww * v * v;
            k += ww * u * v;
          }
        }
      }
    }
    return new double[] {(qq + q2) / 2, k / Math.sqrt(qq * q2)};
  }

  /** {E[phi(u)^2], E[phi(u')^2], E[phi(u) phi(u')]} for Gaussian (u, u') with q's and c. */
  private static double[] pairMoments(double q1, double q2, double c, double[] x, double[] wt) {
    double s = Math.sqrt((1 - c) * (1 + c));
    double m1 = 0;
    double m2 = 0;
    double k = 0;
    for (int a = 0; a < x.length; a++) {
      for (int b = 0; b < x.length; b++) {
        double u = PHI.value(Math.sqrt(q1) * x[a]);
        double v = PHI.value(Math.sqrt(q2) * (c * x[a] + s * x[b]));
        double w = wt[a] * wt[b];
        m1 += w * u * u;
        m2 += w * v * v;
        k += w * u * v;
      }
    }
    return new double[] {m1, m2, k};
  }

  /**
   * Nodes and weights of the n-point Gauss-Hermite rule for the standard normal (probabilists'
   * weight exp(-x^2 / 2), weights summing to 1): Newton's method on the orthonormal physicists'
   * Hermite polynomials (the classic gauher), nodes scaled by sqrt(2), weights by 1/sqrt(pi).
   */
  static double[][] gaussHermite(int n) {
    double[] x = new double[n];
    double[] w = new double[n];
    double pim4 = Math.pow(Math.PI, -0.25);
    double z = 0;
    for (int i = 0; i < (n + 1) / 2; i++) {
      if (i == 0) {
        z = Math.sqrt(2.0 * n + 1) - 1.85575 * Math.pow(2.0 * n + 1, -0.16667);
      } else if (i == 1) {
        z -= 1.14 * Math.pow(n, 0.426) / z;
      } else if (i == 2) {
        z = 1.86 * z - 0.86 * x[0];
      } else if (i == 3) {
        z = 1.91 * z - 0.91 * x[1];
      } else {
        z = 2.0 * z - x[i - 2];
      }
      double pp = 0;
      for (int it = 0; it < 100; it++) {
        double p1 = pim4;
        double p2 = 0;
        for (int j = 0; j < n; j++) {
          double p3 = p2;
          p2 = p1;
          p1 = z * Math.sqrt(2.0 / (j + 1)) * p2 - Math.sqrt((double) j / (j + 1)) * p3;
        }
        pp = Math.sqrt(2.0 * n) * p2;
        double z1 = z;
        z = z1 - p1 / pp;
        if (Math.abs(z - z1) <= 1e-14) {
          break;
        }
      }
      x[i] = z;
      x[n - 1 - i] = -z;
      w[i] = 2.0 / (pp * pp);
      w[n - 1 - i] = w[i];
    }
    double[][] out = new double[2][n];
    for (int i = 0; i < n; i++) {
      out[0][i] = x[i] * Math.sqrt(2);
      out[1][i] = w[i] / Math.sqrt(Math.PI);
    }
    return out;
  }
}
