package dev.dks.trainers.kfac;

import static dev.dks.trainers.kfac.KfacFixtures.ConvGeom;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.trainers.data.Batch;
import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.graph.TrainingSpec;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The bias-corrected moving average with burn-in (kfac.md 1.4, 8.2 item 9). After
 * {@code TrainingGraph.burnIn} of n batches and k regular steps, {@code a_acc / weight} of the first
 * (conv) layer must equal a scalar reference implementation of the bias-corrected EMA
 * ({@code w = rho w + 1}, {@code acc = rho acc + A_batch}, rho = 1 during burn-in and
 * rho to the power of the steps since the previous statistics update: {@code rho^curvatureEvery}
 * with a fixed period, rho at every step of a dense start) applied to per-batch A's that the
 * test computes by brute force from the padded patches (the first layer's A does not depend on the
 * weights, so the updates between the batches do not matter).
 */
class KfacEmaTest {
  private static final ConvGeom Q = new ConvGeom(4, 4, 2, 3, 3, 2, 1, 1, "SAME");
  private static final int CLASSES = 3;
  private static final int B = 3;

  @ParameterizedTest
  @CsvSource({"1, 1, 0", "2, 4, 0", "3, 6, 2", "3, 6, 3"})
  void averageMatchesScalarReference(int curvatureEvery, int inverseEvery, int dense) {
    double rho = 0.8;
    int burn = 3;
    int steps = 7;
    KfacOptions o = KfacOptions.tatRecipe().withCurvatureEma(rho)
        .withPeriods(curvatureEvery, inverseEvery).withBurnIn(burn)
        .withEstimation(FisherEstimation.EXACT).withDenseStatisticsSteps(dense);
    int flat = Q.locations() * Q.cout();
    try (TrainingGraph tg = TrainingGraph.build(KfacFixtures.convReadout(Q, CLASSES,
        KfacFixtures.gaussian(36, 71, 0.4), KfacFixtures.gaussian(2, 72, 0.2),
        KfacFixtures.gaussian(flat * CLASSES, 73, 0.3), KfacFixtures.gaussian(CLASSES, 74, 0.2)),
        TrainingSpec.defaults().withKfac(o))) {
      int d = Q.patchDim() + 1;
      double[][] acc = new double[d][d];
      double w = 0;
      List<Batch> burnBatches = new ArrayList<>();
      for (int n = 0; n < burn; n++) {
        Batch bt = batch(100 + n);
        burnBatches.add(bt);
        accumulate(acc, batchA(bt.images()), 1);
        w = w + 1;
      }
      tg.burnIn(burnBatches);
      check(tg, acc, w, "after burn-in");
      // the previous statistics update: the burn-in, one period (or, with a dense start, one
      // step) before step 0
      int last = dense > 0 ? -1 : -curvatureEvery;
      for (int s = 0; s < steps; s++) {
        Batch bt = batch(200 + s);
        tg.step(s, bt.images(), new long[] {B, Q.h(), Q.w(), Q.c()}, bt.oneHot(), 0.05, 0.9);
        // statistics at every step before `dense`, then at multiples of the period: steps 0, 1,
        // 3, 6 for period 3 after 2 dense steps; the decay is rho per step since the last update
        if (s < dense || s % curvatureEvery == 0) {
          double r = Math.pow(rho, s - last);
          last = s;
          accumulate(acc, batchA(bt.images()), r);
          w = r * w + 1;
        }
        check(tg, acc, w, "after step " + s);
      }
    }
  }

  private static void check(TrainingGraph tg, double[][] acc, double w, String when) {
    double[][] expected = new double[acc.length][acc.length];
    for (int i = 0; i < acc.length; i++) {
      for (int j = 0; j < acc.length; j++) {
        expected[i][j] = acc[i][j] / w;
      }
    }
    double e = KfacFixtures.relErr(KfacFixtures.factor(tg, 0, "a"), expected);
    System.out.printf("EMA %s: rel err %.2e%n", when, e);
    assertTrue(e < 1e-5, when + ": " + e);
  }

  private static void accumulate(double[][] acc, double[][] a, double rho) {
    for (int i = 0; i < acc.length; i++) {
      for (int j = 0; j < acc.length; j++) {
        acc[i][j] = rho * acc[i][j] + a[i][j];
      }
    }
  }

  private static double[][] batchA(float[] x) {
    int d = Q.patchDim() + 1;
    int t = Q.locations();
    double[][] a = new double[d][d];
    for (int i = 0; i < B; i++) {
      double[][] p = KfacFixtures.patches(Q, x, i);
      for (int l = 0; l < t; l++) {
        for (int r = 0; r < d; r++) {
          for (int c = 0; c < d; c++) {
            a[r][c] += p[l][r] * p[l][c] / (B * t);
          }
        }
      }
    }
    return a;
  }

  private static Batch batch(long seed) {
    float[] x = KfacFixtures.gaussian(B * Q.h() * Q.w() * Q.c(), seed, 1 + (seed % 3));
    float[] y = KfacFixtures.labels(B, CLASSES, seed + 1000);
    int[] labels = new int[B];
    for (int i = 0; i < B; i++) {
      for (int k = 0; k < CLASSES; k++) {
        if (y[i * CLASSES + k] == 1f) {
          labels[i] = k;
        }
      }
    }
    return new Batch(0, 0, new int[B], x, labels, y, Q.h(), Q.w(), Q.c(), CLASSES);
  }
}
