package dev.dks.trainers.kfac;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.graph.TrainingSpec;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * kfac.md 8.1 item 3 (softmax version): one dense layer to the logits, one example, EXACT
 * statistics and exact (eigen) damping. Then K-FAC's block is the whole Fisher, so the first update
 * (lr 1, momentum 0, no norm constraint, no L2) must be the damped natural gradient step
 * {@code -(F + lambda I)^-1 grad}. Independent source: F = {@code J^T (diag(p) - p p^T) J} and the
 * gradient {@code J^T (p - y)} with J by central finite differences of a plain-Java double forward
 * pass, and the solve by Gauss-Jordan elimination in the test.
 */
class KfacDampedNaturalGradientTest {
  @Test
  void firstEigenUpdateIsTheDampedNaturalGradient() {
    int din = 4;
    int k = 3;
    double lambda = 0.05;
    float[] w = KfacFixtures.gaussian(din * k, 31, 0.6);
    float[] b = KfacFixtures.gaussian(k, 32, 0.3);
    float[] x = KfacFixtures.gaussian(din, 33, 1);
    float[] y = KfacFixtures.labels(1, k, 34);
    double[] xd = KfacFixtures.toDouble(x);
    double[] theta = KfacFixtures.stack(KfacFixtures.toDouble(w), KfacFixtures.toDouble(b));
    double[][] j = KfacFixtures.jacobian(t -> KfacFixtures.denseLogits(xd, k,
        Arrays.copyOf(t, din * k), Arrays.copyOfRange(t, din * k, t.length)), theta, 1e-5);
    double[] p = KfacFixtures.softmax(KfacFixtures.denseLogits(xd, k,
        Arrays.copyOf(theta, din * k), Arrays.copyOfRange(theta, din * k, theta.length)));
    double[] grad = new double[theta.length];
    for (int i = 0; i < theta.length; i++) {
      for (int c = 0; c < k; c++) {
        grad[i] += j[c][i] * (p[c] - y[c]);
      }
    }
    double[] expected = KfacFixtures.solve(
        KfacFixtures.plusDiagonal(KfacFixtures.fisher(j, p), lambda), grad);
    for (int i = 0; i < expected.length; i++) {
      expected[i] = -expected[i];
    }
    KfacOptions o = KfacOptions.tatRecipe().withEstimation(FisherEstimation.EXACT)
        .withInverse(InverseMethod.EIGEN).withNormConstraint(0).withBurnIn(0)
        .withDamping(lambda).withPeriods(1, 1);
    try (TrainingGraph tg = TrainingGraph.build(KfacFixtures.dense(din, k, w, b),
        TrainingSpec.defaults().withKfac(o))) {
      double[] before = KfacFixtures.stack(KfacFixtures.variable(tg, "w"),
          KfacFixtures.variable(tg, "b"));
      tg.step(0, x, new long[] {1, din}, y, 1.0, 0.0);
      double[] after = KfacFixtures.stack(KfacFixtures.variable(tg, "w"),
          KfacFixtures.variable(tg, "b"));
      double[] delta = new double[after.length];
      for (int i = 0; i < delta.length; i++) {
        delta[i] = after[i] - before[i];
      }
      double e = KfacFixtures.relErr(delta, expected);
      // the undamped-direction check: a plain gradient step would be far away
      double sgd = KfacFixtures.relErr(Arrays.stream(grad).map(v -> -v).toArray(), expected);
      System.out.printf("damped natural gradient: rel err %.2e (SGD step would be %.2e)%n", e,
          sgd);
      assertTrue(e < 1e-4, "update vs -(F + lambda I)^-1 grad: " + e);
      assertTrue(sgd > 0.1, "the anchor must discriminate from a plain gradient step: " + sgd);
    }
  }
}
