package dev.dks.trainers.kfac;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.graph.TrainingSpec;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The diagonal fallback block of a variable outside any dense/conv layer (a per-class scale s in
 * {@code logits = (x W + b) * s}). Its statistic estimates the diagonal of the per-example-mean
 * Fisher, {@code D = (1/B) sum_i sum_k p_ik (J_i^T (p_i - e_k))^2} (the expectation over sampled
 * targets of {@code (sum_i g_i)^2 / B}, the cross terms having mean 0). Independent source: that
 * sum in double precision with the Jacobian J_i of the logits w.r.t. s by central finite
 * differences of a plain-Java forward pass.
 */
class KfacDiagonalBlockTest {
  private static final int DIN = 3;
  private static final int K = 3;
  private static final float[] W = KfacFixtures.gaussian(DIN * K, 121, 0.7);
  private static final float[] BIAS = KfacFixtures.gaussian(K, 122, 0.3);
  private static final float[] S = {1.2f, 0.7f, -0.9f};

  private static TrainingGraph graph(FisherEstimation mode) {
    return TrainingGraph.build(KfacFixtures.scaledDense(DIN, K, W, BIAS, S),
        TrainingSpec.defaults().withKfac(KfacOptions.tatRecipe().withEstimation(mode)));
  }

  private static double[] bruteForce(float[] x, int b) {
    double[] d = new double[K];
    double[] w = KfacFixtures.toDouble(W);
    double[] bias = KfacFixtures.toDouble(BIAS);
    for (int i = 0; i < b; i++) {
      double[] xi = KfacFixtures.toDouble(KfacFixtures.rows(x, DIN, i, i + 1));
      java.util.function.Function<double[], double[]> f = s -> {
        double[] z = KfacFixtures.denseLogits(xi, K, w, bias);
        for (int c = 0; c < K; c++) {
          z[c] *= s[c];
        }
        return z;
      };
      double[] s0 = KfacFixtures.toDouble(S);
      double[][] j = KfacFixtures.jacobian(f, s0, 1e-5);
      double[] p = KfacFixtures.softmax(f.apply(s0));
      double[][] fisher = KfacFixtures.fisher(j, p);
      for (int c = 0; c < K; c++) {
        d[c] += fisher[c][c] / b;
      }
    }
    return d;
  }

  private static double[] diagonal(TrainingGraph tg) {
    double[] acc = KfacFixtures.read(tg.session(), KfacFixtures.KFAC + "block1/d_acc");
    double w = KfacFixtures.read(tg.session(), KfacFixtures.KFAC + "block1/weight")[0];
    return Arrays.stream(acc).map(v -> v / w).toArray();
  }

  private static void checkRegistration(TrainingGraph tg) {
    Registration r = tg.kfac().orElseThrow().registration();
    assertEquals(1, r.layers().size(), "one Kronecker layer");
    assertEquals(java.util.Set.of("s"), r.diagonal().keySet(), "s gets the diagonal block");
  }

  @Test
  void exactModeSingleExampleIsTheFisherDiagonal() {
    float[] x = KfacFixtures.gaussian(DIN, 123, 1);
    float[] y = KfacFixtures.labels(1, K, 124);
    try (TrainingGraph tg = graph(FisherEstimation.EXACT)) {
      checkRegistration(tg);
      KfacFixtures.statistics(tg, x, new long[] {1, DIN}, y, 1, 0, -1);
      double e = KfacFixtures.relErr(diagonal(tg), bruteForce(x, 1));
      System.out.printf("diagonal block, EXACT, B=1: rel err %.2e%n", e);
      assertTrue(e < 1e-5, "B=1: " + e);
    }
  }

  @Test
  void sampledMeanConvergesToTheFisherDiagonal() {
    double[] e = meanOverDraws(FisherEstimation.SAMPLED, 3);
    assertTrue(e[1] < 0.15, "sampled mean vs Fisher diagonal: " + e[1]);
  }

  @Test
  void exactModeBatchMeanConvergesToTheFisherDiagonal() {
    // with B > 1 each example's exact seeds carry a random sign (cross-example terms of the
    // squared batch gradient vanish in expectation), so the mean over draws is the diagonal;
    // the shared-seed estimate without signs is off by a factor 3-4 (relative error > 2)
    double[] e = meanOverDraws(FisherEstimation.EXACT, 5);
    assertTrue(e[1] < 0.1, "EXACT mean vs Fisher diagonal: " + e[1]);
    assertTrue(e[0] / e[1] > 2, "error does not shrink with draws: " + e[0] + " -> " + e[1]);
  }

  /**
   * Relative errors against the brute-force diagonal of the mean of 256 and of 4096 statistics
   * draws (rho = 1 keeps the plain mean) on one batch of 4.
   */
  private static double[] meanOverDraws(FisherEstimation mode, long seed) {
    int b = 4;
    float[] x = KfacFixtures.gaussian(b * DIN, 125, 1);
    float[] y = KfacFixtures.labels(b, K, 126);
    try (TrainingGraph tg = graph(mode)) {
      double[] expected = bruteForce(x, b);
      double e256 = 0;
      for (int s = 0; s < 4096; s++) {
        KfacFixtures.statistics(tg, x, new long[] {b, DIN}, y, 1, seed, -(s + 1));
        if (s + 1 == 256) {
          e256 = KfacFixtures.relErr(diagonal(tg), expected);
        }
      }
      double e = KfacFixtures.relErr(diagonal(tg), expected);
      System.out.printf("diagonal block, %s mean of 256 / 4096, B=%d: rel err %.2e / %.2e%n",
          mode, b, e256, e);
      return new double[] {e256, e};
    }
  }
}
