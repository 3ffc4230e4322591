package dev.dks.trainers.kfac;

import static dev.dks.trainers.kfac.KfacFixtures.ConvGeom;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.graph.TrainingSpec;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The preconditioned momentum update (kfac.md 1.2, 1.5, 1.7, 2.4, 8.1 item 5) for a conv block
 * (T = 16 locations) and a dense block: with the averaged factors A, G of each block, the update
 * of step 0 must be {@code -lr (T A (x) G + lambda I)^-1 vec(grad)} for EIGEN and
 * {@code -lr (T (A + pi s I) (x) (G + s/pi I))^-1 vec(grad)} with {@code s = sqrt(lambda/T)} for
 * CHOLESKY/LU ({@code lambda} = damping + L2, row-major {@code [W; b]} layout); step 1 (statistics
 * folded in, inverses not refreshed) must be {@code mu delta_0 - lr P_0^-1 grad_1} with the
 * preconditioner {@code P_0} built from the step-0 factors. Independent source: the Kronecker
 * products formed explicitly and inverted by Gauss-Jordan in the test, the gradients from TF
 * autodiff ({@code TrainingGraph.gradients}).
 */
class KfacPreconditionerTest {
  private static final ConvGeom Q = new ConvGeom(4, 4, 2, 3, 3, 2, 1, 1, "SAME");
  private static final int CLASSES = 3;
  private static final int B = 4;
  private static final String[][] LAYERS = {{"kernel", "bc"}, {"wr", "br"}};

  @ParameterizedTest
  @CsvSource({"EIGEN, 0", "CHOLESKY, 0", "LU, 0", "EIGEN, 0.001", "CHOLESKY, 0.001"})
  void updatesAreTheExplicitlyPreconditionedGradients(InverseMethod method, double l2) {
    double damping = 1e-2;
    double lambda = damping + l2;
    int flat = Q.locations() * Q.cout();
    float[] x = KfacFixtures.gaussian(B * 32, 111, 1);
    float[] y = KfacFixtures.labels(B, CLASSES, 112);
    long[] shape = {B, Q.h(), Q.w(), Q.c()};
    KfacOptions o = KfacOptions.tatRecipe().withEstimation(FisherEstimation.EXACT)
        .withInverse(method).withDamping(damping).withNormConstraint(0).withPeriods(1, 100);
    try (TrainingGraph tg = TrainingGraph.build(KfacFixtures.convReadout(Q, CLASSES,
        KfacFixtures.gaussian(36, 113, 0.4), KfacFixtures.gaussian(2, 114, 0.2),
        KfacFixtures.gaussian(flat * CLASSES, 115, 0.3), KfacFixtures.gaussian(CLASSES, 116, 0.2)),
        TrainingSpec.defaults().withL2(l2).withKfac(o))) {
      double lr0 = 1.0;
      Map<String, float[]> g0 = tg.gradients(x, shape, y);
      double[][] w0 = params(tg);
      tg.step(0, x, shape, y, lr0, 0.0);
      double[][] w1 = params(tg);
      double[][][] pInv = new double[2][][];
      double worst = 0;
      double[][] delta0 = new double[2][];
      for (int blk = 0; blk < 2; blk++) {
        int t = blk == 0 ? Q.locations() : 1;
        pInv[blk] = KfacFixtures.inverse(preconditioner(tg, blk, t, lambda, method));
        double[] v = grad(g0, blk);
        double[] expected = new double[v.length];
        delta0[blk] = new double[v.length];
        for (int i = 0; i < v.length; i++) {
          for (int j = 0; j < v.length; j++) {
            expected[i] -= lr0 * pInv[blk][i][j] * v[j];
          }
          delta0[blk][i] = w1[blk][i] - w0[blk][i];
        }
        double e = KfacFixtures.relErr(delta0[blk], expected);
        worst = Math.max(worst, e);
        assertTrue(e < 1e-3, method + " block " + blk + " step 0: " + e);
      }
      // step 1: momentum and the cached (stale) step-0 preconditioner
      double lr1 = 0.5;
      double mu = 0.9;
      float[] x1 = KfacFixtures.gaussian(B * 32, 117, 1);
      Map<String, float[]> g1 = tg.gradients(x1, shape, y);
      tg.step(1, x1, shape, y, lr1, mu);
      double[][] w2 = params(tg);
      for (int blk = 0; blk < 2; blk++) {
        double[] v = grad(g1, blk);
        double[] expected = new double[v.length];
        double[] got = new double[v.length];
        for (int i = 0; i < v.length; i++) {
          expected[i] = mu * delta0[blk][i];
          for (int j = 0; j < v.length; j++) {
            expected[i] -= lr1 * pInv[blk][i][j] * v[j];
          }
          got[i] = w2[blk][i] - w1[blk][i];
        }
        double e = KfacFixtures.relErr(got, expected);
        worst = Math.max(worst, e);
        assertTrue(e < 1e-3, method + " block " + blk + " step 1: " + e);
      }
      System.out.printf("preconditioner %s l2=%s: worst rel err %.2e%n", method, l2, worst);
    }
  }

  private static double[][] params(TrainingGraph tg) {
    double[][] out = new double[2][];
    for (int blk = 0; blk < 2; blk++) {
      out[blk] = KfacFixtures.stack(KfacFixtures.variable(tg, LAYERS[blk][0]),
          KfacFixtures.variable(tg, LAYERS[blk][1]));
    }
    return out;
  }

  private static double[] grad(Map<String, float[]> g, int blk) {
    return KfacFixtures.stack(KfacFixtures.toDouble(g.get(LAYERS[blk][0])),
        KfacFixtures.toDouble(g.get(LAYERS[blk][1])));
  }

  /** The damped block the method approximates, formed explicitly. */
  private static double[][] preconditioner(TrainingGraph tg, int blk, int t, double lambda,
      InverseMethod method) {
    double[][] a = KfacFixtures.factor(tg, blk, "a");
    double[][] g = KfacFixtures.factor(tg, blk, "g");
    double[][] p;
    if (method == InverseMethod.EIGEN) {
      p = KfacFixtures.plusDiagonal(KfacFixtures.kron(a, g), lambda / t);
    } else {
      double pi = Math.sqrt((KfacFixtures.trace(a) / a.length)
          / (KfacFixtures.trace(g) / g.length));
      double s = Math.sqrt(lambda / t);
      p = KfacFixtures.kron(KfacFixtures.plusDiagonal(a, pi * s),
          KfacFixtures.plusDiagonal(g, s / pi));
    }
    for (double[] row : p) {
      for (int j = 0; j < row.length; j++) {
        row[j] *= t;
      }
    }
    return p;
  }
}
