package dev.dks.trainers.kfac;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.graph.TrainingSpec;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Batch scaling of the statistics (kfac.md 1.1, 8.2 item 7; catches the 1/B vs 1/B^2 seed bug).
 * Independent sources: (1) the factors of single-example batches, averaged in the test, must give
 * the factors of the whole batch; (2) for one example in EMPIRICAL mode the outer product of the
 * autodiff loss gradient ({@code TrainingGraph.gradients}, i.e. TF's {@code addGradients} of the
 * mean loss, not K-FAC code), stacked {@code [W; b]} row-major, must equal {@code A (x) G}.
 */
class KfacBatchScalingTest {
  private static final int DIN = 3;
  private static final int H = 4;
  private static final int K = 3;

  private static TrainingGraph graph() {
    return TrainingGraph.build(KfacFixtures.mlp(DIN, H, K,
        KfacFixtures.gaussian(DIN * H, 41, 0.8), KfacFixtures.gaussian(H, 42, 0.3),
        KfacFixtures.gaussian(H * K, 43, 0.8), KfacFixtures.gaussian(K, 44, 0.3)),
        TrainingSpec.defaults().withKfac(KfacOptions.tatRecipe()
            .withEstimation(FisherEstimation.EMPIRICAL)));
  }

  @Test
  void batchFactorsAreTheMeanOfSingleExampleFactors() {
    int b = 6;
    float[] x = KfacFixtures.gaussian(b * DIN, 45, 1);
    float[] y = KfacFixtures.labels(b, K, 46);
    try (TrainingGraph tg = graph()) {
      double worst = 0;
      for (int blk = 0; blk < 2; blk++) {
        for (String f : new String[] {"a", "g"}) {
          double[][] mean = null;
          for (int i = 0; i < b; i++) {
            // rho = 0: the average is this batch's estimate alone
            KfacFixtures.statistics(tg, KfacFixtures.rows(x, DIN, i, i + 1), new long[] {1, DIN},
                KfacFixtures.rows(y, K, i, i + 1), 0, 0, 0);
            double[][] m = KfacFixtures.factor(tg, blk, f);
            if (mean == null) {
              mean = new double[m.length][m.length];
            }
            for (int r = 0; r < m.length; r++) {
              for (int c = 0; c < m.length; c++) {
                mean[r][c] += m[r][c] / b;
              }
            }
          }
          KfacFixtures.statistics(tg, x, new long[] {b, DIN}, y, 0, 0, 0);
          double e = KfacFixtures.relErr(KfacFixtures.factor(tg, blk, f), mean);
          worst = Math.max(worst, e);
          assertTrue(e < 1e-5, "block " + blk + " " + f + ": batch vs mean of singles " + e);
        }
      }
      System.out.printf("batch scaling: worst rel err %.2e%n", worst);
    }
  }

  @Test
  void singleExampleEmpiricalFactorsAreTheGradientOuterProduct() {
    float[] x = KfacFixtures.gaussian(DIN, 47, 1);
    float[] y = KfacFixtures.labels(1, K, 48);
    try (TrainingGraph tg = graph()) {
      Map<String, float[]> grads = tg.gradients(x, new long[] {1, DIN}, y);
      KfacFixtures.statistics(tg, x, new long[] {1, DIN}, y, 1, 0, 0);
      String[][] layers = {{"w1", "b1"}, {"w2", "b2"}};
      for (int blk = 0; blk < 2; blk++) {
        double[] v = KfacFixtures.stack(KfacFixtures.toDouble(grads.get(layers[blk][0])),
            KfacFixtures.toDouble(grads.get(layers[blk][1])));
        double[][] outer = new double[v.length][v.length];
        for (int r = 0; r < v.length; r++) {
          for (int c = 0; c < v.length; c++) {
            outer[r][c] = v[r] * v[c];
          }
        }
        double[][] kr = KfacFixtures.kron(KfacFixtures.factor(tg, blk, "a"),
            KfacFixtures.factor(tg, blk, "g"));
        double e = KfacFixtures.relErr(kr, outer);
        System.out.printf("empirical B=1 block %d: A (x) G vs grad grad^T rel err %.2e%n", blk, e);
        assertTrue(e < 1e-5, "block " + blk + ": " + e);
      }
    }
  }
}
