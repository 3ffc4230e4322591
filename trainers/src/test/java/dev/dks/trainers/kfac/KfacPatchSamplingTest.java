package dev.dks.trainers.kfac;

import static dev.dks.trainers.kfac.KfacFixtures.ConvGeom;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.model.TensorProtos;
import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.graph.TrainingSpec;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * KFC-expand A statistics from sampled patch rows ({@link KfacOptions#patchRowsPerDimension}).
 * Independent sources: the plain-Java patch extraction in TF's padding convention
 * ({@link KfacFixtures#patches}, itself checked against TF's Conv2D in
 * {@link KfacPatchOrderingTest}) and the brute-force A over every example and location.
 *
 * <ul>
 *   <li>every sampled row is, exactly, one of the batch's patch rows, and the rows are drawn
 *       uniformly: the chi-square statistic of the draw counts over the {@code B T} rows stays
 *       within 6 standard deviations of its mean (any bias in the index arithmetic, e.g. a wrong
 *       stride or padding offset, either produces rows that are no patch or skews the counts);
 *   <li>through the optimizer: the plain mean (rho = 1) of S sampled A factors of one batch
 *       converges to the brute-force A, the RMS error of 8 means of S = 16 updates against one
 *       mean of S = 1024 shrinking like {@code 1/sqrt(S)} (ratio ~8; also fails if every step drew
 *       the same rows), while G is unchanged from the every-row graph.
 * </ul>
 */
class KfacPatchSamplingTest {
  @ParameterizedTest
  @MethodSource("dev.dks.trainers.kfac.KfacPatchOrderingTest#geometries")
  void sampledRowsArePatchRowsDrawnUniformly(ConvGeom q) {
    int b = 3;
    int draws = 6000;
    float[] x = KfacFixtures.gaussian(b * q.h() * q.w() * q.c(), 21, 1);
    RegisteredLayer layer = new RegisteredLayer(RegisteredLayer.Kind.CONV2D, "conv", "kernel",
        "bc", "input:0", "conv:0", new long[] {q.kh(), q.kw(), q.c(), q.cout()},
        List.of((long) q.sh(), (long) q.sw()), q.padding(), q.locations());
    Map<String, Integer> rowIndex = new HashMap<>();
    int t = q.locations();
    for (int i = 0; i < b; i++) {
      double[][] pt = KfacFixtures.patches(q, x, i);
      for (int l = 0; l < t; l++) {
        rowIndex.put(key(pt[l]), i * t + l);
      }
    }
    assertEquals(b * t, rowIndex.size(), "the fixture's patch rows are distinct");
    float[] rows;
    try (Graph g = new Graph(); Session s = new Session(g);
        TFloat32 xt = KfacFixtures.tensor(x, b, q.h(), q.w(), q.c());
        TInt64 seed = TInt64.vectorOf(5, 9)) {
      Ops tf = Ops.create(g);
      Operand<TFloat32> sampled = Patches.sampledRows(tf, layer, tf.constant(xt), draws,
          tf.constant(seed));
      try (Result r = s.runner().fetch(sampled).run()) {
        rows = TensorProtos.floats(TensorProtos.fromTensor(r.get(0)));
      }
    }
    int d = q.patchDim() + 1;
    assertEquals(draws * d, rows.length, "[draws, kh kw c + 1]");
    int[] counts = new int[b * t];
    for (int n = 0; n < draws; n++) {
      double[] row = new double[d];
      for (int j = 0; j < d; j++) {
        row[j] = rows[n * d + j];
      }
      Integer at = rowIndex.get(key(row));
      assertTrue(at != null, "sampled row " + n + " is no patch row: " + Arrays.toString(row));
      counts[at]++;
    }
    double expected = (double) draws / (b * t);
    double chi2 = 0;
    for (int c : counts) {
      chi2 += (c - expected) * (c - expected) / expected;
    }
    int dof = b * t - 1;
    System.out.printf("%s: %d rows, chi2 %.1f (dof %d)%n", q, b * t, chi2, dof);
    assertTrue(Math.abs(chi2 - dof) < 6 * Math.sqrt(2.0 * dof),
        "draw counts not uniform: chi2 " + chi2 + " with " + dof + " degrees of freedom");
  }

  /** Patch values are copies of float inputs, so equal rows have equal float bits. */
  private static String key(double[] row) {
    StringBuilder sb = new StringBuilder();
    for (double v : row) {
      sb.append(Float.floatToIntBits((float) v)).append(',');
    }
    return sb.toString();
  }

  @Test
  void meanOfSampledAConvergesToBruteForceAndLeavesG() {
    ConvGeom q = new ConvGeom(5, 5, 2, 3, 3, 2, 1, 1, "SAME");
    int b = 2;
    int classes = 3;
    int t = q.locations();
    float[] x = KfacFixtures.gaussian(b * q.h() * q.w() * q.c(), 31, 1);
    float[] y = KfacFixtures.labels(b, classes, 32);
    long[] shape = {b, q.h(), q.w(), q.c()};
    int da = q.patchDim() + 1;
    double[][] aRef = new double[da][da];
    for (int i = 0; i < b; i++) {
      for (double[] p : KfacFixtures.patches(q, x, i)) {
        for (int r = 0; r < da; r++) {
          for (int c = 0; c < da; c++) {
            aRef[r][c] += p[r] * p[c] / (b * t);
          }
        }
      }
    }
    double[][] gAll;
    try (TrainingGraph tg = graph(q, classes, 0)) {
      KfacFixtures.statistics(tg, x, shape, y, 1, 0, 3);
      gAll = KfacFixtures.factor(tg, 0, "g");
    }
    // one row per input dimension per update: 19 of the 50 rows
    try (TrainingGraph tg = graph(q, classes, 1)) {
      KfacFixtures.statistics(tg, x, shape, y, 1, 0, 3);
      assertEquals(0, KfacFixtures.relErr(KfacFixtures.factor(tg, 0, "g"), gAll), 1e-6,
          "G does not depend on the sampling of A's rows");
      double[] e = KfacFixtures.smallAndLargeSampleErrors(
          (count, first) -> meanError(tg, x, shape, y, count, first, aRef), 100);
      double small = e[0];
      double large = e[1];
      double norm = KfacFixtures.frob(aRef, new double[da][da]);
      System.out.printf("sampled A: |A| %.3g, error S=16 (rms of 8) %.3g, S=1024 %.3g, "
          + "ratio %.2f%n", norm, small, large, small / large);
      assertTrue(small / large > 4, "error ratio " + small / large + " (expected ~8)");
      assertTrue(large < 0.05 * norm, "error at S=1024 " + large + " vs |A| " + norm);
    }
  }

  private static TrainingGraph graph(ConvGeom q, int classes, double rowsPerDimension) {
    int flat = q.locations() * q.cout();
    return TrainingGraph.build(KfacFixtures.convReadout(q, classes,
        KfacFixtures.gaussian(q.patchDim() * q.cout(), 33, 0.5),
        KfacFixtures.gaussian(q.cout(), 34, 0.2),
        KfacFixtures.gaussian(flat * classes, 35, 0.5), KfacFixtures.gaussian(classes, 36, 0.2)),
        TrainingSpec.defaults().withKfac(KfacOptions.tatRecipe()
            .withPatchRowsPerDimension(rowsPerDimension)));
  }

  /** Frobenius error of the conv block's mean A over {@code s} updates from a fresh state. */
  private static double meanError(TrainingGraph tg, float[] x, long[] shape, float[] y, int s,
      long firstStep, double[][] aRef) {
    tg.session().runner().addTarget(KfacFixtures.KFAC + "init_state").run().close();
    for (int i = 0; i < s; i++) {
      KfacFixtures.statistics(tg, x, shape, y, 1, 0, firstStep + i);
    }
    return KfacFixtures.frob(KfacFixtures.factor(tg, 0, "a"), aRef);
  }
}
