package dev.dks.trainers.kfac;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.graph.TrainingSpec;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Label smoothing changes the loss gradient but not the curvature (kfac.md 1.3, 10). Independent
 * source: the same graph without smoothing; with the same batch and seed, the sampled and exact
 * factors must be identical, while the loss gradient must differ (so the smoothing is active).
 */
class KfacLabelSmoothingTest {
  @ParameterizedTest
  @EnumSource(value = FisherEstimation.class, names = {"SAMPLED", "CURVATURE_PROP", "EXACT"})
  void smoothingDoesNotEnterTheFactors(FisherEstimation mode) {
    int din = 3;
    int h = 4;
    int k = 3;
    int b = 5;
    float[] x = KfacFixtures.gaussian(b * din, 141, 1);
    float[] y = KfacFixtures.labels(b, k, 142);
    KfacOptions o = KfacOptions.tatRecipe().withEstimation(mode);
    java.util.function.Function<TrainingSpec, TrainingGraph> build = spec -> TrainingGraph.build(
        KfacFixtures.mlp(din, h, k, KfacFixtures.gaussian(din * h, 143, 0.8),
            KfacFixtures.gaussian(h, 144, 0.3), KfacFixtures.gaussian(h * k, 145, 0.8),
            KfacFixtures.gaussian(k, 146, 0.3)), spec.withKfac(o));
    try (TrainingGraph plain = build.apply(TrainingSpec.defaults());
        TrainingGraph smooth = build.apply(TrainingSpec.defaults().withLabelSmoothing(0.1))) {
      long[] shape = {b, din};
      double gradDiff = KfacFixtures.relErr(
          KfacFixtures.toDouble(smooth.gradients(x, shape, y).get("b2")),
          KfacFixtures.toDouble(plain.gradients(x, shape, y).get("b2")));
      assertTrue(gradDiff > 1e-2, "smoothing must change the gradient: " + gradDiff);
      KfacFixtures.statistics(plain, x, shape, y, 1, 5, 9);
      KfacFixtures.statistics(smooth, x, shape, y, 1, 5, 9);
      for (int blk = 0; blk < 2; blk++) {
        for (String f : new String[] {"a", "g"}) {
          assertEquals(0, KfacFixtures.relErr(KfacFixtures.factor(smooth, blk, f),
              KfacFixtures.factor(plain, blk, f)), 1e-6, mode + " block " + blk + " " + f);
        }
      }
    }
  }
}
