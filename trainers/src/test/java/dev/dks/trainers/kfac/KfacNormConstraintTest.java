package dev.dks.trainers.kfac;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.graph.TrainingSpec;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The norm constraint ("KL clipping", kfac.md 1.7, 8.2 item 10). The same first step is run from
 * the same state twice, without the constraint (giving the unclipped update {@code -lr u}) and with
 * a small {@code C_max}. Independent source: the test computes {@code grad . u} from the autodiff
 * gradient ({@code TrainingGraph.gradients}) and the unclipped update, then
 * {@code c = sqrt(C_max / (lr^2 grad . u))}; the clipped update must be {@code c} times the
 * unclipped one, so that {@code lr^2 c^2 grad . u == C_max}; with a large {@code C_max} the update
 * is unchanged.
 */
class KfacNormConstraintTest {
  private static final int DIN = 3;
  private static final int H = 5;
  private static final int K = 3;
  private static final int B = 8;
  private static final String[] VARS = {"w1", "b1", "w2", "b2"};

  private static TrainingGraph graph(double cMax) {
    return TrainingGraph.build(KfacFixtures.mlp(DIN, H, K,
        KfacFixtures.gaussian(DIN * H, 81, 0.8), KfacFixtures.gaussian(H, 82, 0.3),
        KfacFixtures.gaussian(H * K, 83, 0.8), KfacFixtures.gaussian(K, 84, 0.3)),
        TrainingSpec.defaults().withKfac(KfacOptions.tatRecipe().withNormConstraint(cMax)
            .withDamping(1e-2)));
  }

  private static double[] delta(TrainingGraph tg, float[] x, float[] y, double lr) {
    double[] before = flat(tg);
    tg.step(0, x, new long[] {B, DIN}, y, lr, 0.0);
    double[] after = flat(tg);
    for (int i = 0; i < after.length; i++) {
      after[i] -= before[i];
    }
    return after;
  }

  private static double[] flat(TrainingGraph tg) {
    double[] out = new double[0];
    for (String v : VARS) {
      out = KfacFixtures.stack(out, KfacFixtures.variable(tg, v));
    }
    return out;
  }

  @Test
  void activeConstraintScalesTheUpdateToCmax() {
    float[] x = KfacFixtures.gaussian(B * DIN, 85, 1);
    float[] y = KfacFixtures.labels(B, K, 86);
    double lr = 0.5;
    double cMax = 1e-5;
    double[] grad = new double[0];
    double[] free;
    try (TrainingGraph tg = graph(0)) {
      Map<String, float[]> g = tg.gradients(x, new long[] {B, DIN}, y);
      for (String v : VARS) {
        grad = KfacFixtures.stack(grad, KfacFixtures.toDouble(g.get(v)));
      }
      free = delta(tg, x, y, lr);
      assertEquals(1.0, tg.kfacDiagnostics()[1], 0, "no constraint: clip 1");
    }
    double dot = 0;
    for (int i = 0; i < grad.length; i++) {
      dot += grad[i] * (-free[i] / lr);
    }
    assertTrue(dot > 0, "grad . u must be positive: " + dot);
    double c = Math.sqrt(cMax / (lr * lr * dot));
    assertTrue(c < 0.5, "C_max must make the constraint active, c = " + c);
    try (TrainingGraph tg = graph(cMax)) {
      double[] clipped = delta(tg, x, y, lr);
      double[] expected = free.clone();
      for (int i = 0; i < expected.length; i++) {
        expected[i] *= c;
      }
      double e = KfacFixtures.relErr(clipped, expected);
      double[] diag = tg.kfacDiagnostics();
      double num = 0;
      double den = 0;
      for (int i = 0; i < free.length; i++) {
        num += clipped[i] * free[i];
        den += free[i] * free[i];
      }
      double cEff = num / den;
      double kl = lr * lr * cEff * cEff * dot;
      System.out.printf("norm constraint: c=%.4g, update rel err %.2e, lr^2 c^2 g.u / C_max = %.6f,"
          + " reported g.u %.6g vs %.6g, clip %.6g%n", c, e, kl / cMax, diag[0], dot, diag[1]);
      assertTrue(e < 1e-4, "clipped update vs c * unclipped: " + e);
      assertEquals(1.0, kl / cMax, 1e-4, "lr^2 c^2 grad.u == C_max");
      assertEquals(dot, diag[0], 1e-4 * dot, "reported grad . u");
      assertEquals(c, diag[1], 1e-4 * c, "reported clip");
    }
    try (TrainingGraph tg = graph(1e6)) {
      double e = KfacFixtures.relErr(delta(tg, x, y, lr), free);
      assertTrue(e < 1e-6, "inactive constraint leaves the update: " + e);
    }
  }
}
