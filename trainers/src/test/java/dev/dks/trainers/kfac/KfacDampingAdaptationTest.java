package dev.dks.trainers.kfac;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.graph.TrainingSpec;
import org.junit.jupiter.api.Test;

/**
 * Levenberg-Marquardt damping (kfac.md 1.9, test plan item 11). The rule against its scalar
 * definition; in a training graph, a tiny step is predicted by the quadratic model (reduction
 * ratio -> 1, so the damping shrinks by omega), a huge one is not (ratio < 0.25, the damping
 * grows by 1/omega). The model change itself is checked against {@code grad . delta +
 * delta^T (A (x) G) delta / 2} computed in Java from the block's factors read back.
 */
class KfacDampingAdaptationTest {
  private static final int DIN = 3;
  private static final int K = 3;
  private static final float[] W = KfacFixtures.gaussian(DIN * K, 401, 0.5);
  private static final float[] B = KfacFixtures.gaussian(K, 402, 0.2);

  @Test
  void ruleMatchesItsDefinition() {
    DampingAdaptation a = new DampingAdaptation(5, 0.9, 1e-6, 10);
    double omega = Math.pow(0.9, 5);
    assertEquals(omega, a.omega(), 1e-15);
    assertEquals(1e-2 * omega, a.next(1e-2, 0.9), 1e-15);
    assertEquals(1e-2 / omega, a.next(1e-2, 0.1), 1e-15);
    assertEquals(1e-2 / omega, a.next(1e-2, Double.NaN), 1e-15);
    assertEquals(1e-2, a.next(1e-2, 0.5), 0);
    assertEquals(10, a.next(9, -3), 0);
    assertEquals(1e-6, a.next(1e-6, 1), 0);
  }

  @Test
  void smallStepsShrinkTheDampingAndHugeStepsGrowIt() {
    int b = 8;
    float[] x = KfacFixtures.gaussian(b * DIN, 403, 1);
    float[] y = KfacFixtures.labels(b, K, 404);
    DampingAdaptation adapt = new DampingAdaptation(1, 0.9, 1e-8, 1e3);
    KfacOptions o = KfacOptions.tatRecipe().withEstimation(FisherEstimation.EXACT)
        .withNormConstraint(0).withDamping(1e-2).withAdaptation(adapt);
    double[] small = firstStep(o, x, y, 1e-4);
    assertEquals(1, small[3], 1e-2, "reduction ratio of a tiny step");
    assertEquals(1e-2 * 0.9, damping(o, x, y, 1e-4), 1e-9);
    double[] huge = firstStep(o, x, y, 50);
    assertTrue(huge[3] < 0.25, "reduction ratio of a huge step: " + huge[3]);
    assertEquals(1e-2 / 0.9, damping(o, x, y, 50), 1e-8);
  }

  @Test
  void modelChangeIsTheKfacQuadraticModel() {
    int b = 8;
    float[] x = KfacFixtures.gaussian(b * DIN, 405, 1);
    float[] y = KfacFixtures.labels(b, K, 406);
    KfacOptions o = KfacOptions.tatRecipe().withEstimation(FisherEstimation.EXACT)
        .withNormConstraint(0).withDamping(1e-2).withBurnIn(0);
    try (TrainingGraph tg = TrainingGraph.build(KfacFixtures.dense(DIN, K, W, B),
        TrainingSpec.defaults().withKfac(o))) {
      double[] w0 = KfacFixtures.stack(KfacFixtures.variable(tg, "w"),
          KfacFixtures.variable(tg, "b"));
      var grads = tg.gradients(x, new long[] {b, DIN}, y);
      double[] g = KfacFixtures.stack(KfacFixtures.toDouble(grads.get("w")),
          KfacFixtures.toDouble(grads.get("b")));
      tg.step(0, x, new long[] {b, DIN}, y, 0.3, 0);
      double[] w1 = KfacFixtures.stack(KfacFixtures.variable(tg, "w"),
          KfacFixtures.variable(tg, "b"));
      double[][] f = KfacFixtures.kron(KfacFixtures.factor(tg, 0, "a"),
          KfacFixtures.factor(tg, 0, "g"));
      double expected = 0;
      for (int i = 0; i < g.length; i++) {
        double di = w1[i] - w0[i];
        expected += g[i] * di;
        for (int j = 0; j < g.length; j++) {
          expected += 0.5 * di * f[i][j] * (w1[j] - w0[j]);
        }
      }
      double got = tg.kfacDiagnostics()[4];
      assertEquals(expected, got, 1e-4 * Math.abs(expected), "quadratic model change");
    }
  }

  private static double[] firstStep(KfacOptions o, float[] x, float[] y, double lr) {
    try (TrainingGraph tg = TrainingGraph.build(KfacFixtures.dense(DIN, K, W, B),
        TrainingSpec.defaults().withKfac(o))) {
      tg.step(0, x, new long[] {x.length / DIN, DIN}, y, lr, 0);
      return tg.kfacDiagnostics();
    }
  }

  private static double damping(KfacOptions o, float[] x, float[] y, double lr) {
    try (TrainingGraph tg = TrainingGraph.build(KfacFixtures.dense(DIN, K, W, B),
        TrainingSpec.defaults().withKfac(o))) {
      tg.step(0, x, new long[] {x.length / DIN, DIN}, y, lr, 0);
      return KfacFixtures.read(tg.session(), KfacFixtures.KFAC + "damping_state")[0];
    }
  }
}
