package dev.dks.trainers.kfac;

import static dev.dks.trainers.kfac.KfacFixtures.ConvGeom;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.graph.TrainingSpec;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * pi-adjusted factored Tikhonov damping (kfac.md 1.5, 2.3, 8.1 item 5). Given the averaged factors
 * A and G of a conv block (T = 25 output locations) and a dense block (T = 1), the cached inverses
 * must be the inverses of {@code A + pi sqrt(lambda/T) I} and {@code G + sqrt(lambda/T)/pi I} with
 * {@code pi = sqrt((tr A / dim A) / (tr G / dim G))} and {@code lambda} = damping + L2
 * coefficient. Independent source: pi and the explicit inverses computed in double precision in
 * the test (Gauss-Jordan, {@link KfacFixtures#inverse}).
 */
class KfacPiDampingTest {
  @ParameterizedTest
  @CsvSource({"CHOLESKY, 0", "LU, 0", "CHOLESKY, 0.001", "LU, 0.001"})
  void cachedInversesAreThePiDampedFactorInverses(InverseMethod method, double l2) {
    ConvGeom q = new ConvGeom(5, 5, 2, 3, 3, 2, 1, 1, "SAME");
    int classes = 3;
    int b = 4;
    double damping = 1e-2;
    double lambda = damping + l2;
    float[] x = KfacFixtures.gaussian(b * 50, 51, 1);
    float[] y = KfacFixtures.labels(b, classes, 52);
    KfacOptions o = KfacOptions.tatRecipe().withEstimation(FisherEstimation.EXACT)
        .withInverse(method).withDamping(damping);
    try (TrainingGraph tg = TrainingGraph.build(KfacFixtures.convReadout(q, classes,
        KfacFixtures.gaussian(36, 53, 0.4), KfacFixtures.gaussian(2, 54, 0.2),
        KfacFixtures.gaussian(50 * classes, 55, 0.3), KfacFixtures.gaussian(classes, 56, 0.2)),
        TrainingSpec.defaults().withL2(l2).withKfac(o))) {
      KfacFixtures.statistics(tg, x, new long[] {b, 5, 5, 2}, y, 1, 0, -1);
      KfacFixtures.inverses(tg, damping);
      int[] locations = {q.locations(), 1};
      for (int blk = 0; blk < 2; blk++) {
        double[][] a = KfacFixtures.factor(tg, blk, "a");
        double[][] g = KfacFixtures.factor(tg, blk, "g");
        assertEquals(blk == 0 ? 19 : 51, a.length, "block order");
        double pi = Math.sqrt((KfacFixtures.trace(a) / a.length)
            / (KfacFixtures.trace(g) / g.length));
        double s = Math.sqrt(lambda / locations[blk]);
        double[][] aInv = KfacFixtures.inverse(KfacFixtures.plusDiagonal(a, pi * s));
        double[][] gInv = KfacFixtures.inverse(KfacFixtures.plusDiagonal(g, s / pi));
        double ea = KfacFixtures.relErr(KfacFixtures.square(tg, "block" + blk + "/a_inv"), aInv);
        double eg = KfacFixtures.relErr(KfacFixtures.square(tg, "block" + blk + "/g_inv"), gInv);
        System.out.printf("pi damping %s l2=%s block %d (T=%d, pi=%.3g): a_inv %.2e, g_inv %.2e%n",
            method, l2, blk, locations[blk], pi, ea, eg);
        assertTrue(ea < 1e-5, method + " block " + blk + " a_inv: " + ea);
        assertTrue(eg < 1e-5, method + " block " + blk + " g_inv: " + eg);
      }
    }
  }
}
