package dev.dks.trainers.kfac;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.graph.TrainingSpec;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Unbiasedness of the sampled statistics (kfac.md 1.3, 8.2 item 8): the plain mean (rho = 1) of
 * the G factors of S differently seeded statistics updates on one batch converges to the EXACT-mode
 * G with an error shrinking like {@code 1/sqrt(S)}. Independent source: a second method, the EXACT
 * estimation (K seeded backward passes, itself checked against brute force in
 * {@link KfacSingleExampleFisherTest} and {@link KfacPatchOrderingTest}) on the same model and
 * batch. The RMS error of 8 independent means of S = 16 draws is compared with the error of one mean
 * of S = 1024 draws (expected ratio 8). The same through {@code TrainingGraph.burnIn} with S
 * copies of one batch of a conv model (each burn-in batch must get its own seed, or the mean
 * would not converge).
 */
class KfacSampledConvergenceTest {
  private static final int DIN = 3;
  private static final int H = 4;
  private static final int K = 3;
  private static final int B = 4;

  private static TrainingGraph graph(FisherEstimation mode) {
    return TrainingGraph.build(KfacFixtures.mlp(DIN, H, K,
        KfacFixtures.gaussian(DIN * H, 91, 0.8), KfacFixtures.gaussian(H, 92, 0.3),
        KfacFixtures.gaussian(H * K, 93, 0.8), KfacFixtures.gaussian(K, 94, 0.3)),
        TrainingSpec.defaults().withKfac(KfacOptions.tatRecipe().withEstimation(mode)));
  }

  @ParameterizedTest
  @EnumSource(value = FisherEstimation.class, names = {"SAMPLED", "CURVATURE_PROP"})
  void meanOfSampledGConvergesToExactG(FisherEstimation mode) {
    float[] x = KfacFixtures.gaussian(B * DIN, 95, 1);
    float[] y = KfacFixtures.labels(B, K, 96);
    long[] shape = {B, DIN};
    double[][][] exact = new double[2][][];
    try (TrainingGraph tg = graph(FisherEstimation.EXACT)) {
      KfacFixtures.statistics(tg, x, shape, y, 1, 0, -1);
      exact[0] = KfacFixtures.factor(tg, 0, "g");
      exact[1] = KfacFixtures.factor(tg, 1, "g");
    }
    double norm = Math.hypot(KfacFixtures.frob(exact[0], new double[H][H]),
        KfacFixtures.frob(exact[1], new double[K][K]));
    try (TrainingGraph tg = graph(mode)) {
      double[] e = KfacFixtures.smallAndLargeSampleErrors(
          (count, first) -> meanError(tg, x, shape, y, count, first, exact), 1);
      double small = e[0];
      double large = e[1];
      System.out.printf("%s: |G| %.3g, error S=16 (rms of 8) %.3g, S=1024 %.3g, ratio %.2f%n",
          mode, norm, small, large, small / large);
      assertTrue(small / large > 3, mode + ": error ratio " + small / large + " (expected ~8)");
      assertTrue(large < 0.05 * norm, mode + ": error at S=1024 " + large + " vs |G| " + norm);
    }
  }

  /** Frobenius error (both blocks) of the mean G of {@code s} seeded updates from a fresh state. */
  private static double meanError(TrainingGraph tg, float[] x, long[] shape, float[] y, int s,
      long firstSeed, double[][][] exact) {
    tg.session().runner().addTarget(KfacFixtures.KFAC + "init_state").run().close();
    for (int i = 0; i < s; i++) {
      KfacFixtures.statistics(tg, x, shape, y, 1, 7, -(firstSeed + i));
    }
    return Math.hypot(KfacFixtures.frob(KfacFixtures.factor(tg, 0, "g"), exact[0]),
        KfacFixtures.frob(KfacFixtures.factor(tg, 1, "g"), exact[1]));
  }

  @ParameterizedTest
  @EnumSource(value = FisherEstimation.class, names = {"SAMPLED", "CURVATURE_PROP"})
  void burnInOfCopiesConvergesToExactG(FisherEstimation mode) {
    KfacFixtures.ConvGeom q = new KfacFixtures.ConvGeom(3, 3, 1, 2, 2, 2, 1, 1, "VALID");
    int classes = 3;
    int b = 2;
    int flat = q.locations() * q.cout();
    float[] x = KfacFixtures.gaussian(b * 9, 97, 1);
    float[] y = KfacFixtures.labels(b, classes, 98);
    java.util.function.Function<FisherEstimation, TrainingGraph> build = m ->
        TrainingGraph.build(KfacFixtures.convReadout(q, classes,
            KfacFixtures.gaussian(8, 99, 0.6), KfacFixtures.gaussian(2, 100, 0.2),
            KfacFixtures.gaussian(flat * classes, 101, 0.6),
            KfacFixtures.gaussian(classes, 102, 0.2)),
            TrainingSpec.defaults().withKfac(KfacOptions.tatRecipe().withEstimation(m)));
    dev.dks.trainers.data.Batch batch = new dev.dks.trainers.data.Batch(0, 0, new int[b], x,
        new int[b], y, 3, 3, 1, classes);
    double[][][] exact = new double[2][][];
    try (TrainingGraph tg = build.apply(FisherEstimation.EXACT)) {
      tg.burnIn(java.util.List.of(batch));
      exact[0] = KfacFixtures.factor(tg, 0, "g");
      exact[1] = KfacFixtures.factor(tg, 1, "g");
    }
    double[] err = new double[2];
    int[] copies = {16, 1024};
    for (int r = 0; r < 2; r++) {
      try (TrainingGraph tg = build.apply(mode)) {
        tg.burnIn(java.util.Collections.nCopies(copies[r], batch));
        err[r] = Math.hypot(KfacFixtures.frob(KfacFixtures.factor(tg, 0, "g"), exact[0]),
            KfacFixtures.frob(KfacFixtures.factor(tg, 1, "g"), exact[1]));
      }
    }
    System.out.printf("%s burn-in copies: error S=16 %.3g, S=1024 %.3g, ratio %.2f%n", mode,
        err[0], err[1], err[0] / err[1]);
    assertTrue(err[0] / err[1] > 2, mode + ": burn-in error ratio " + err[0] / err[1]);
  }
}
