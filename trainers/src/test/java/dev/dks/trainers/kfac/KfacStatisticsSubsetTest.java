package dev.dks.trainers.kfac;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.graph.TrainingSpec;
import org.junit.jupiter.api.Test;

/**
 * {@code KfacOptions.statisticsExamples}: statistics from the first m examples of a batch.
 * Independent source: a second graph without the option fed only those m examples; both factors of
 * both layers must be equal (so the sub-batch is normalized by m, not by B).
 */
class KfacStatisticsSubsetTest {
  @Test
  void subsetStatisticsEqualThoseOfTheLeadingExamples() {
    int din = 3;
    int h = 4;
    int k = 3;
    int b = 7;
    int m = 3;
    float[] x = KfacFixtures.gaussian(b * din, 131, 1);
    float[] y = KfacFixtures.labels(b, k, 132);
    KfacOptions o = KfacOptions.tatRecipe().withEstimation(FisherEstimation.EXACT);
    java.util.function.Function<KfacOptions, TrainingGraph> build = opts -> TrainingGraph.build(
        KfacFixtures.mlp(din, h, k, KfacFixtures.gaussian(din * h, 133, 0.8),
            KfacFixtures.gaussian(h, 134, 0.3), KfacFixtures.gaussian(h * k, 135, 0.8),
            KfacFixtures.gaussian(k, 136, 0.3)), TrainingSpec.defaults().withKfac(opts));
    try (TrainingGraph sub = build.apply(o.withStatisticsExamples(m));
        TrainingGraph ref = build.apply(o)) {
      KfacFixtures.statistics(sub, x, new long[] {b, din}, y, 1, 0, 0);
      KfacFixtures.statistics(ref, KfacFixtures.rows(x, din, 0, m), new long[] {m, din},
          KfacFixtures.rows(y, k, 0, m), 1, 0, 0);
      double worst = 0;
      for (int blk = 0; blk < 2; blk++) {
        for (String f : new String[] {"a", "g"}) {
          double e = KfacFixtures.relErr(KfacFixtures.factor(sub, blk, f),
              KfacFixtures.factor(ref, blk, f));
          worst = Math.max(worst, e);
          assertTrue(e < 1e-5, "block " + blk + " " + f + ": " + e);
        }
      }
      System.out.printf("statistics subset: worst rel err %.2e%n", worst);
    }
  }
}
