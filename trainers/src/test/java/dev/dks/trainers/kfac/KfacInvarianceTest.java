package dev.dks.trainers.kfac;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.graph.TrainingSpec;
import org.junit.jupiter.api.Test;

/**
 * K-FAC's invariance to affine reparametrizations of a layer's input (kfac.md 8.3 item 13). A
 * single dense layer is trained one step on inputs x and, separately, on inputs {@code x M + c}
 * with the weights transformed so that the initial function is identical
 * ({@code W' = M^-1 W}, {@code b' = b - c M^-1 W}). With exact (eigen) damping near 0 and EXACT
 * statistics the change of the logits must be the same. Independent source: the second,
 * transformed model (transform and {@code M^-1} computed in the test), the logits recomputed in
 * plain Java from the fetched weights; the logits are compared centered per example (the logit
 * direction {@code 1} is the null space of the softmax Fisher and does not change the predictions).
 * Contrast: one plain SGD step changes the two functions very differently.
 */
class KfacInvarianceTest {
  private static final int DIN = 3;
  private static final int K = 4;
  private static final int B = 16;
  private static final double[][] M = {{1.5, 0.3, 0}, {-0.2, 0.8, 0.4}, {0.1, 0, 1.2}};
  private static final double[] C = {0.5, -0.3, 0.2};

  @Test
  void kfacUpdateIsInvariantSgdIsNot() {
    float[] x = KfacFixtures.gaussian(B * DIN, 101, 1);
    float[] y = KfacFixtures.labels(B, K, 102);
    float[] w = KfacFixtures.gaussian(DIN * K, 103, 0.5);
    float[] b = KfacFixtures.gaussian(K, 104, 0.3);
    double[][] mInv = KfacFixtures.inverse(M);
    float[] x2 = new float[x.length];
    for (int i = 0; i < B; i++) {
      for (int j = 0; j < DIN; j++) {
        double v = C[j];
        for (int l = 0; l < DIN; l++) {
          v += x[i * DIN + l] * M[l][j];
        }
        x2[i * DIN + j] = (float) v;
      }
    }
    float[] w2 = new float[w.length];
    float[] b2 = new float[K];
    for (int c = 0; c < K; c++) {
      double bc = b[c];
      for (int r = 0; r < DIN; r++) {
        double v = 0;
        for (int l = 0; l < DIN; l++) {
          v += mInv[r][l] * w[l * K + c];
        }
        w2[r * K + c] = (float) v;
        bc -= C[r] * v;
      }
      b2[c] = (float) bc;
    }
    double[][] z0 = logits(KfacFixtures.toDouble(x), KfacFixtures.toDouble(w),
        KfacFixtures.toDouble(b));
    double[][] z0t = logits(KfacFixtures.toDouble(x2), KfacFixtures.toDouble(w2),
        KfacFixtures.toDouble(b2));
    assertTrue(KfacFixtures.relErr(z0t, z0) < 1e-5, "the transformed model is the same function");

    KfacOptions o = KfacOptions.tatRecipe().withEstimation(FisherEstimation.EXACT)
        .withInverse(InverseMethod.EIGEN).withDamping(1e-6).withNormConstraint(0);
    TrainingSpec kfac = TrainingSpec.defaults().withKfac(o);
    double[][] dz = change(kfac, x, y, w, b, 0.1, z0);
    double[][] dzt = change(kfac, x2, y, w2, b2, 0.1, z0t);
    double e = KfacFixtures.relErr(dzt, dz);
    double[][] sgd = change(TrainingSpec.defaults(), x, y, w, b, 0.1, z0);
    double[][] sgdt = change(TrainingSpec.defaults(), x2, y, w2, b2, 0.1, z0t);
    double es = KfacFixtures.relErr(sgdt, sgd);
    System.out.printf("invariance: K-FAC logit change rel diff %.2e, SGD %.2e%n", e, es);
    assertTrue(e < 1e-4, "K-FAC function-space update differs: " + e);
    assertTrue(es > 0.1, "SGD should not be invariant: " + es);
  }

  /** Centered change of the logits on x after one step (momentum 0). */
  private static double[][] change(TrainingSpec spec, float[] x, float[] y, float[] w, float[] b,
      double lr, double[][] z0) {
    try (TrainingGraph tg = TrainingGraph.build(KfacFixtures.dense(DIN, K, w, b), spec)) {
      tg.step(0, x, new long[] {B, DIN}, y, lr, 0);
      double[][] z1 = logits(KfacFixtures.toDouble(x), KfacFixtures.variable(tg, "w"),
          KfacFixtures.variable(tg, "b"));
      double[][] d = new double[B][K];
      for (int i = 0; i < B; i++) {
        double mean = 0;
        for (int c = 0; c < K; c++) {
          d[i][c] = z1[i][c] - z0[i][c];
          mean += d[i][c] / K;
        }
        for (int c = 0; c < K; c++) {
          d[i][c] -= mean;
        }
      }
      return d;
    }
  }

  private static double[][] logits(double[] x, double[] w, double[] b) {
    double[][] z = new double[B][];
    for (int i = 0; i < B; i++) {
      z[i] = KfacFixtures.denseLogits(java.util.Arrays.copyOfRange(x, i * DIN, (i + 1) * DIN), K,
          w, b);
    }
    return z;
  }
}
