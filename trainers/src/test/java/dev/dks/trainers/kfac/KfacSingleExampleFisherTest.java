package dev.dks.trainers.kfac;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.graph.TrainingSpec;
import org.junit.jupiter.api.Test;

/**
 * kfac.md 8.1 item 1: for a single example the exact Fisher block of a dense layer is exactly
 * {@code A (x) G} (the layer input does not depend on the target), so EXACT-mode factors must
 * reproduce it. Independent source: the brute-force Fisher {@code J^T (diag(p) - p p^T) J} with the
 * Jacobian J of the logits w.r.t. the stacked {@code [W; b]} of each layer of a 2-layer tanh MLP
 * taken by central finite differences of a plain-Java double-precision forward pass.
 */
class KfacSingleExampleFisherTest {
  @Test
  void exactModeFactorsAreTheFisherBlocksOfBothLayers() {
    int din = 3;
    int h = 5;
    int k = 4;
    float[] w1 = KfacFixtures.gaussian(din * h, 1, 0.7);
    float[] b1 = KfacFixtures.gaussian(h, 2, 0.3);
    float[] w2 = KfacFixtures.gaussian(h * k, 3, 0.7);
    float[] b2 = KfacFixtures.gaussian(k, 4, 0.3);
    float[] x = KfacFixtures.gaussian(din, 5, 1);
    float[] y = KfacFixtures.labels(1, k, 6);
    KfacOptions o = KfacOptions.tatRecipe().withEstimation(FisherEstimation.EXACT);
    double[] xd = KfacFixtures.toDouble(x);
    double[] w1d = KfacFixtures.toDouble(w1);
    double[] b1d = KfacFixtures.toDouble(b1);
    double[] w2d = KfacFixtures.toDouble(w2);
    double[] b2d = KfacFixtures.toDouble(b2);
    double[] p = KfacFixtures.softmax(KfacFixtures.mlpLogits(xd, h, k, w1d, b1d, w2d, b2d));
    double[][] j1 = KfacFixtures.jacobian(t -> KfacFixtures.mlpLogits(xd, h, k,
        java.util.Arrays.copyOf(t, din * h), java.util.Arrays.copyOfRange(t, din * h, t.length),
        w2d, b2d), KfacFixtures.stack(w1d, b1d), 1e-5);
    double[][] j2 = KfacFixtures.jacobian(t -> KfacFixtures.mlpLogits(xd, h, k, w1d, b1d,
        java.util.Arrays.copyOf(t, h * k), java.util.Arrays.copyOfRange(t, h * k, t.length)),
        KfacFixtures.stack(w2d, b2d), 1e-5);
    double[][] f1 = KfacFixtures.fisher(j1, p);
    double[][] f2 = KfacFixtures.fisher(j2, p);
    try (TrainingGraph tg = TrainingGraph.build(KfacFixtures.mlp(din, h, k, w1, b1, w2, b2),
        TrainingSpec.defaults().withKfac(o))) {
      KfacFixtures.statistics(tg, x, new long[] {1, din}, y, 1, 0, -1);
      double[][] a0 = KfacFixtures.factor(tg, 0, "a");
      double[][] a1 = KfacFixtures.factor(tg, 1, "a");
      assertEquals(din + 1, a0.length, "block0 = first layer");
      assertEquals(h + 1, a1.length, "block1 = second layer");
      double[][] k1 = KfacFixtures.kron(a0, KfacFixtures.factor(tg, 0, "g"));
      double[][] k2 = KfacFixtures.kron(a1, KfacFixtures.factor(tg, 1, "g"));
      double e1 = KfacFixtures.relErr(k1, f1);
      double e2 = KfacFixtures.relErr(k2, f2);
      System.out.printf("single-example Fisher: layer 1 rel err %.2e, layer 2 %.2e%n", e1, e2);
      assertTrue(e1 < 1e-4, "first layer A (x) G vs J^T F_z J: " + e1);
      assertTrue(e2 < 1e-4, "last layer A (x) G vs J^T F_z J: " + e2);
    }
  }
}
