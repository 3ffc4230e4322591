package dev.dks.trainers.kfac;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.graph.TrainingSpec;
import org.junit.jupiter.api.Test;

/**
 * {@link TrainingGraph#setKfacDamping} (a damping that follows a schedule): a graph built with
 * damping 1e-2 whose damping is then set to 1e-1 takes the first step of a graph built with 1e-1
 * (the second method), and not the step of 1e-2 (control); an SGD graph and a non-positive
 * damping are refused.
 */
class KfacSetDampingTest {
  private static final int DIN = 3;
  private static final int K = 3;
  private static final float[] W = KfacFixtures.gaussian(DIN * K, 411, 0.5);
  private static final float[] B = KfacFixtures.gaussian(K, 412, 0.2);

  @Test
  void setDampingTakesTheStepOfAGraphBuiltWithIt() {
    int b = 8;
    float[] x = KfacFixtures.gaussian(b * DIN, 413, 1);
    float[] y = KfacFixtures.labels(b, K, 414);
    KfacOptions low = KfacOptions.tatRecipe().withEstimation(FisherEstimation.EXACT)
        .withNormConstraint(0).withBurnIn(0).withDamping(1e-2);
    double[] built = stepped(low.withDamping(1e-1), x, y, Double.NaN);
    double[] set = stepped(low, x, y, 1e-1);
    double[] kept = stepped(low, x, y, Double.NaN);
    assertArrayEquals(built, set, 1e-6);
    double diff = 0;
    for (int i = 0; i < built.length; i++) {
      diff = Math.max(diff, Math.abs(built[i] - kept[i]));
    }
    assertTrue(diff > 1e-3, "damping 1e-2 and 1e-1 must step differently: " + diff);
  }

  @Test
  void refusesSgdAndNonPositiveDamping() {
    try (TrainingGraph sgd = TrainingGraph.build(KfacFixtures.dense(DIN, K, W, B),
        TrainingSpec.defaults())) {
      assertThrows(IllegalStateException.class, () -> sgd.setKfacDamping(1e-2));
    }
    try (TrainingGraph tg = TrainingGraph.build(KfacFixtures.dense(DIN, K, W, B),
        TrainingSpec.defaults().withKfac(KfacOptions.tatRecipe().withBurnIn(0)))) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> tg.setKfacDamping(0));
      assertTrue(e.getMessage().contains("damping"), e.getMessage());
    }
  }

  private static double[] stepped(KfacOptions o, float[] x, float[] y, double setTo) {
    try (TrainingGraph tg = TrainingGraph.build(KfacFixtures.dense(DIN, K, W, B),
        TrainingSpec.defaults().withKfac(o))) {
      if (!Double.isNaN(setTo)) {
        tg.setKfacDamping(setTo);
      }
      tg.step(0, x, new long[] {x.length / DIN, DIN}, y, 0.5, 0);
      double[] w = KfacFixtures.stack(KfacFixtures.variable(tg, "w"),
          KfacFixtures.variable(tg, "b"));
      assertEquals(DIN * K + K, w.length);
      return w;
    }
  }
}
