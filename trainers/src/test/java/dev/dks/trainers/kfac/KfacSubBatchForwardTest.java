package dev.dks.trainers.kfac;

import static dev.dks.trainers.kfac.KfacFixtures.ConvGeom;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.graph.TrainingSpec;
import dev.dks.trainers.distributed.Replication;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.DeviceStepStats;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeExecStats;
import org.tensorflow.proto.RunOptions;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * Statistics from a sub-batch through {@link SubBatchForward}, the copy of the forward pass that
 * reads only the first m rows (so that the sampled backward pass costs m rows, not the batch).
 * Independent sources: a second graph without the option fed only those m examples (its factors
 * must be equal, for a conv layer and a dense one); the nodes TF executes in a statistics run (the
 * training forward pass must not run, the copy must); and, for the replica row formula, the
 * copy's logits against the first rows of the original's.
 */
class KfacSubBatchForwardTest {
  private static final ConvGeom Q = new ConvGeom(5, 4, 2, 3, 3, 3, 1, 1, "SAME");
  private static final int K = 3;

  private static Model convNet() {
    int flat = Q.locations() * Q.cout();
    return KfacFixtures.convReadout(Q, K, KfacFixtures.gaussian(Q.patchDim() * Q.cout(), 401,
        0.4), KfacFixtures.gaussian(Q.cout(), 402, 0.2), KfacFixtures.gaussian(flat * K, 403,
        0.3), KfacFixtures.gaussian(K, 404, 0.2));
  }

  private static TrainingGraph build(KfacOptions o) {
    return TrainingGraph.build(convNet(), TrainingSpec.defaults().withKfac(o));
  }

  @Test
  void convAndDenseFactorsFromTheCopyEqualThoseOfTheLeadingExamples() {
    int b = 6;
    int m = 2;
    int d = Q.h() * Q.w() * Q.c();
    float[] x = KfacFixtures.gaussian(b * d, 405, 1);
    float[] y = KfacFixtures.labels(b, K, 406);
    long[] shape = {b, Q.h(), Q.w(), Q.c()};
    long[] subShape = {m, Q.h(), Q.w(), Q.c()};
    for (ConvApproximation conv : new ConvApproximation[] {ConvApproximation.REDUCE,
        ConvApproximation.EXPAND}) {
      KfacOptions o = KfacOptions.tatRecipe().withEstimation(FisherEstimation.EXACT)
          .withConv(conv);
      try (TrainingGraph sub = build(o.withStatisticsExamples(m));
          TrainingGraph ref = build(o);
          TrainingGraph all = build(o)) {
        KfacFixtures.statistics(sub, x, shape, y, 1, 0, 0);
        KfacFixtures.statistics(ref, KfacFixtures.rows(x, d, 0, m), subShape,
            KfacFixtures.rows(y, K, 0, m), 1, 0, 0);
        KfacFixtures.statistics(all, x, shape, y, 1, 0, 0);
        double worst = 0;
        double control = Double.POSITIVE_INFINITY;
        for (int blk = 0; blk < 2; blk++) {
          for (String f : new String[] {"a", "g"}) {
            double e = KfacFixtures.relErr(KfacFixtures.factor(sub, blk, f),
                KfacFixtures.factor(ref, blk, f));
            worst = Math.max(worst, e);
            assertTrue(e < 1e-5, conv + " block " + blk + " " + f + ": " + e);
            control = Math.min(control, KfacFixtures.relErr(KfacFixtures.factor(sub, blk, f),
                KfacFixtures.factor(all, blk, f)));
          }
        }
        // negative control: the whole batch's factors are not those of the first m rows
        assertTrue(control > 1e-2, conv + ": whole-batch factors should differ, min rel err "
            + control);
        System.out.printf("sub-batch copy, %s: worst rel err %.2e (whole batch: >= %.2e)%n",
            conv, worst, control);
      }
    }
  }

  /**
   * The copy's factors against numbers computed here by direct summation over the first m
   * examples, with no TF graph: K-FAC-reduce's A of the conv layer is the second moment of the
   * examples' mean patches (trailing 1 included); the read-out's A that of the flattened conv
   * outputs; with exact estimation the read-out's G is the mean output Fisher
   * {@code diag(p) - p p^T} and the conv layer's summed-over-locations G is
   * {@code W_sum F(p) W_sum^T} with {@code W_sum[c][k] = sum_t W_r[t cout + c][k]} (the logits are
   * linear in the conv output). Negative control: the same sums over the whole batch differ.
   */
  @Test
  void subBatchFactorsEqualDirectSumsOverTheLeadingExamples() {
    int b = 6;
    int m = 3;
    int flat = Q.locations() * Q.cout();
    float[] kernel = KfacFixtures.gaussian(Q.patchDim() * Q.cout(), 401, 0.4);
    float[] bc = KfacFixtures.gaussian(Q.cout(), 402, 0.2);
    float[] wr = KfacFixtures.gaussian(flat * K, 403, 0.3);
    float[] br = KfacFixtures.gaussian(K, 404, 0.2);
    float[] x = KfacFixtures.gaussian(b * Q.h() * Q.w() * Q.c(), 412, 1);
    float[] y = KfacFixtures.labels(b, K, 413);
    KfacOptions o = KfacOptions.tatRecipe().withEstimation(FisherEstimation.EXACT)
        .withConv(ConvApproximation.REDUCE).withStatisticsExamples(m);
    try (TrainingGraph sub = build(o)) {
      KfacFixtures.statistics(sub, x, new long[] {b, Q.h(), Q.w(), Q.c()}, y, 1, 0, 0);
      double[][][] want = directFactors(x, m, kernel, bc, wr, br);
      double[][][] whole = directFactors(x, b, kernel, bc, wr, br);
      String[] names = {"conv a", "conv g", "read-out a", "read-out g"};
      for (int i = 0; i < 4; i++) {
        double[][] got = KfacFixtures.factor(sub, i / 2, i % 2 == 0 ? "a" : "g");
        double e = KfacFixtures.relErr(got, want[i]);
        assertTrue(e < 1e-4, names[i] + ": rel err " + e);
        double control = KfacFixtures.relErr(got, whole[i]);
        assertTrue(control > 1e-2, names[i] + ": the whole batch's sums should differ, "
            + control);
      }
    }
  }

  /** conv A, conv G, read-out A, read-out G of the first {@code n} examples, summed directly. */
  private static double[][][] directFactors(float[] x, int n, float[] kernel, float[] bc,
      float[] wr, float[] br) {
    int t = Q.locations();
    int cout = Q.cout();
    int flat = t * cout;
    int dA = Q.patchDim() + 1;
    double[][] wsum = new double[cout][K];
    for (int l = 0; l < t; l++) {
      for (int c = 0; c < cout; c++) {
        for (int k = 0; k < K; k++) {
          wsum[c][k] += wr[(l * cout + c) * K + k];
        }
      }
    }
    double[][] convA = new double[dA][dA];
    double[][] convG = new double[cout][cout];
    double[][] readA = new double[flat + 1][flat + 1];
    double[][] readG = new double[K][K];
    for (int i = 0; i < n; i++) {
      double[] mean = new double[dA];
      for (double[] row : KfacFixtures.patches(Q, x, i)) {
        for (int j = 0; j < dA; j++) {
          mean[j] += row[j] / t;
        }
      }
      addOuter(convA, mean, 1.0 / n);
      double[][] s = KfacFixtures.conv(Q, x, i, kernel, bc);
      double[] f = new double[flat + 1];
      for (int l = 0; l < t; l++) {
        System.arraycopy(s[l], 0, f, l * cout, cout);
      }
      f[flat] = 1;
      addOuter(readA, f, 1.0 / n);
      double[] z = new double[K];
      for (int k = 0; k < K; k++) {
        z[k] = br[k];
        for (int j = 0; j < flat; j++) {
          z[k] += f[j] * wr[j * K + k];
        }
      }
      double[][] fisher = KfacFixtures.outputFisher(KfacFixtures.softmax(z));
      double[][] g = KfacFixtures.matmul(KfacFixtures.matmul(wsum, fisher),
          KfacFixtures.transpose(wsum));
      for (int p = 0; p < K; p++) {
        for (int q = 0; q < K; q++) {
          readG[p][q] += fisher[p][q] / n;
        }
      }
      for (int p = 0; p < cout; p++) {
        for (int q = 0; q < cout; q++) {
          convG[p][q] += g[p][q] / n;
        }
      }
    }
    return new double[][][] {convA, convG, readA, readG};
  }

  private static void addOuter(double[][] m, double[] v, double w) {
    for (int p = 0; p < v.length; p++) {
      for (int q = 0; q < v.length; q++) {
        m[p][q] += w * v[p] * v[q];
      }
    }
  }

  @Test
  void aStatisticsRunExecutesTheCopyAndNotTheTrainingForwardPass() {
    int b = 6;
    float[] x = KfacFixtures.gaussian(b * Q.h() * Q.w() * Q.c(), 407, 1);
    float[] y = KfacFixtures.labels(b, K, 408);
    KfacOptions o = KfacOptions.tatRecipe().withConv(ConvApproximation.REDUCE);
    Set<String> sub = executed(o.withStatisticsExamples(2), x, y, b);
    Set<String> whole = executed(o, x, y, b);
    // "sc" is the conv layer's bias add (TF may fuse the Conv2D into it, keeping its name)
    assertTrue(sub.contains("kfac_statistics/sc"), "the copy's conv layer runs: " + sub);
    assertFalse(sub.contains("sc"), "the training forward pass must not run: " + sub);
    // negative control: whole-batch statistics read the training forward pass
    assertTrue(whole.contains("sc"), "whole batch: " + whole);
    assertFalse(whole.stream().anyMatch(n -> n.startsWith("kfac_statistics/")));
  }

  /** The names of the nodes TF executes in one traced statistics run. */
  private static Set<String> executed(KfacOptions o, float[] x, float[] y, int b) {
    RunOptions trace = RunOptions.newBuilder().setTraceLevel(RunOptions.TraceLevel.FULL_TRACE)
        .build();
    Set<String> out = new HashSet<>();
    try (TrainingGraph tg = build(o);
        TFloat32 xt = KfacFixtures.tensor(x, b, Q.h(), Q.w(), Q.c());
        TFloat32 yt = KfacFixtures.tensor(y, b, K);
        TFloat32 rho = TFloat32.scalarOf(1f);
        TInt64 seed = TInt64.vectorOf(0, 0);
        Result r = tg.session().runner().feed("input", xt).feed(tg.labelsName(), yt)
            .feed(KfacFixtures.KFAC + "rho", rho).feed(KfacFixtures.KFAC + "seed", seed)
            .addTarget(KfacFixtures.KFAC + "update_statistics").setOptions(trace)
            .runAndFetchMetadata()) {
      for (DeviceStepStats d : r.getMetadata().orElseThrow().getStepStats().getDevStatsList()) {
        for (NodeExecStats n : d.getNodeStatsList()) {
          out.add(n.getNodeName());
        }
      }
    }
    return out;
  }

  /**
   * Replica r of local batch b reads {@code min(b, max(0, m - r b))} rows, but at least one (an
   * empty batch through oneDNN's Conv2D comes back wrongly shaped), and the copy's logits are the
   * original's first rows.
   */
  @Test
  void theCopyReadsThisReplicasShareOfTheFirstExamples() {
    int b = 3;
    int m = 4;
    int din = 2;
    GraphDef def;
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var in = tf.withName("input").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, din)));
      tf.withName("logits").math.tanh(tf.withName("mm").linalg.matMul(in,
          tf.constant(new float[][] {{1f, -2f, 0.5f}, {0.25f, 1f, -1f}})));
      def = g.toGraphDef();
    }
    float[] x = KfacFixtures.gaussian(b * din, 409, 1);
    int[] want = {3, 1, 1};
    for (int rank = 0; rank < 3; rank++) {
      SubBatchForward.WithCopy c = SubBatchForward.add(def, TensorName.of("input"), "logits", m,
          rank);
      try (Graph g = new Graph()) {
        g.importGraphDef(c.graph());
        try (Session s = new Session(g);
            TFloat32 xt = KfacFixtures.tensor(x, b, din);
            Result r = s.runner().feed("input", xt).fetch("logits")
                .fetch(c.forward().tensor("logits")).fetch(c.forward().rows()).run()) {
          int rows = ((TInt32) r.get(2)).getInt();
          assertEquals(want[rank], rows, "rank " + rank);
          float[] full = TensorProtos.floats(TensorProtos.fromTensor(r.get(0)));
          float[] copy = TensorProtos.floats(TensorProtos.fromTensor(r.get(1)));
          assertEquals(rows * 3, copy.length, "rank " + rank);
          float[] first = new float[copy.length];
          System.arraycopy(full, 0, first, 0, copy.length);
          assertArrayEquals(first, copy, 1e-6f, "rank " + rank);
        }
      }
    }
  }

  /**
   * One replica of two, each with a local batch of 4, statistics from the first 4 global
   * examples: rank 0's share (sums over its 4 rows divided by 4 / 2 examples per replica) is
   * twice the factors of a one-process graph fed those rows; rank 1 reads zero rows, and its
   * statistics run (KFC-expand with sampled patch rows too, the distributed test's options) leaves
   * zero shares. The replication here is a stand-in whose mean is the identity (no cluster).
   */
  @Test
  void replicasTakeTheirShareOfTheFirstExamplesAndAnEmptyShareRuns() {
    int b = 4;
    int d = Q.h() * Q.w() * Q.c();
    float[] x = KfacFixtures.gaussian(b * d, 410, 1);
    float[] y = KfacFixtures.labels(b, K, 411);
    long[] shape = {b, Q.h(), Q.w(), Q.c()};
    KfacOptions exact = KfacOptions.tatRecipe().withEstimation(FisherEstimation.EXACT)
        .withConv(ConvApproximation.REDUCE);
    try (TrainingGraph r0 = replica(exact.withStatisticsExamples(b), 0);
        TrainingGraph ref = build(exact)) {
      KfacFixtures.statistics(r0, x, shape, y, 1, 0, 0);
      KfacFixtures.statistics(ref, x, shape, y, 1, 0, 0);
      for (int blk = 0; blk < 2; blk++) {
        for (String f : new String[] {"a", "g"}) {
          double[][] want = KfacFixtures.factor(ref, blk, f);
          for (double[] row : want) {
            for (int j = 0; j < row.length; j++) {
              row[j] *= 2;
            }
          }
          double e = KfacFixtures.relErr(KfacFixtures.factor(r0, blk, f), want);
          assertTrue(e < 1e-5, "rank 0 block " + blk + " " + f + ": " + e);
        }
      }
    }
    for (KfacOptions o : new KfacOptions[] {exact, KfacOptions.tatRecipe()
        .withPatchRowsPerDimension(3)}) {
      try (TrainingGraph r1 = replica(o.withStatisticsExamples(b), 1)) {
        KfacFixtures.statistics(r1, x, shape, y, 1, 0, 0);
        for (int blk = 0; blk < 2; blk++) {
          for (String f : new String[] {"a", "g"}) {
            for (double[] row : KfacFixtures.factor(r1, blk, f)) {
              for (double v : row) {
                assertEquals(0, v, 0, "rank 1 reads no rows: block " + blk + " " + f);
              }
            }
          }
        }
      }
    }
  }

  private static TrainingGraph replica(KfacOptions o, int rank) {
    Replication stand = new Replication() {
      @Override
      public List<Operand<TFloat32>> mean(Ops tf, List<? extends Operand<TFloat32>> values) {
        return new ArrayList<>(values);
      }

      @Override
      public List<Operand<TFloat32>> fromRank0(Ops tf,
          List<? extends Operand<TFloat32>> values) {
        return new ArrayList<>(values);
      }

      @Override
      public Session openSession(Graph graph) {
        return new Session(graph);
      }

      @Override
      public int rank() {
        return rank;
      }

      @Override
      public int replicas() {
        return 2;
      }
    };
    return TrainingGraph.build(convNet(), TrainingSpec.defaults().withKfac(o), null, stand);
  }
}
