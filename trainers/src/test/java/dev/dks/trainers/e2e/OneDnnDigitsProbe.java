package dev.dks.trainers.e2e;

import dev.dks.rewriter.builder.BuiltModel;
import dev.dks.rewriter.builder.Pooling;
import dev.dks.solver.solve.Method;
import dev.dks.trainers.data.Batch;
import dev.dks.trainers.data.BatchIterator;
import dev.dks.trainers.data.DataSets;
import dev.dks.trainers.data.Dataset;
import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.graph.TrainingSpec;
import dev.dks.trainers.optim.SgdOptimizer;
import java.io.DataOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.util.Locale;
import java.util.Map;

/**
 * Diagnostic main (not a test): the gradients of the shaped 20-layer digits net (seed 0) at
 * initialization on its first batch, three times in one process, written to a file (args[0]) for
 * comparison across environments; then the spread between the three. Run it once per environment
 * (oneDNN off, at AVX2, at SSE4.1). {@code compare A B}: the largest relative difference per
 * variable between two such files. {@code train STEPS [LR_SCALE]}: DigitsShapedVsUnshapedTest's
 * former shaped Nesterov run (seed 0, lr 0.006) with its learning rate scaled, the loss of every
 * step and the test accuracy (BENCHMARKS.md, "oneDNN": the outcome moves with a 1e-6 change of
 * the rate).
 */
public final class OneDnnDigitsProbe {
  private OneDnnDigitsProbe() {}

  public static void main(String[] args) throws IOException {
    if (args[0].equals("compare")) {
      Map<String, float[]> a = read(args[1]);
      Map<String, float[]> c = read(args[2]);
      for (Map.Entry<String, float[]> e : a.entrySet()) {
        System.out.printf(Locale.ROOT, "%-40s %.2e%n", e.getKey(), rel(e.getValue(),
            c.get(e.getKey())));
      }
      return;
    }
    if (args[0].equals("train")) {
      train(Long.parseLong(args[1]), args.length > 2 ? Double.parseDouble(args[2]) : 1);
      return;
    }
    Dataset all = DataSets.load("digits", E2eSupport.cache("digits/digits.csv.gz"));
    Dataset.Split split = all.split(0.2, 0);
    Dataset.ChannelStats stats = split.train().channelStats();
    Dataset train = split.train().standardized(stats);
    BuiltModel m = E2eSupport.plainCnn(20, 16, "8x8x1", "leaky_relu", Method.TAT,
        Pooling.every(Pooling.Kind.STRIDED_CONV, 10), 0);
    Batch b = BatchIterator.builder(train).batchSize(128).seed(0).dropLast(true).build()
        .batchAt(0);
    long[] shape = {b.size(), train.h(), train.w(), train.c()};
    TrainingSpec spec = TrainingSpec.defaults().withOptimizer(SgdOptimizer.Kind.NESTEROV);
    try (TrainingGraph tg = TrainingGraph.build(m.model(), spec);
        DataOutputStream out = new DataOutputStream(new FileOutputStream(args[0]))) {
      Map<String, float[]> first = null;
      for (int rep = 0; rep < 3; rep++) {
        Map<String, float[]> g = tg.gradients(b.images(), shape, b.oneHot());
        if (first == null) {
          first = g;
          for (Map.Entry<String, float[]> e : g.entrySet()) {
            out.writeUTF(e.getKey());
            out.writeInt(e.getValue().length);
            for (float v : e.getValue()) {
              out.writeFloat(v);
            }
          }
        } else {
          double worst = 0;
          String where = "";
          for (Map.Entry<String, float[]> e : g.entrySet()) {
            double d = rel(e.getValue(), first.get(e.getKey()));
            if (d > worst) {
              worst = d;
              where = e.getKey();
            }
          }
          System.out.printf(Locale.ROOT, "repeat %d: worst relative difference %.2e at %s%n", rep,
              worst, where);
        }
      }
      double[] la = tg.trainingLoss(b.images(), shape, b.oneHot());
      System.out.printf(Locale.ROOT, "loss at init %.6f%n", la[0]);
    }
  }

  /**
   * The shaped Nesterov run (seed 0, peak lr 0.006) DigitsShapedVsUnshapedTest made before
   * session 20, with the loss of every step printed.
   */
  static void train(long steps, double lrScale) {
    Dataset all = DataSets.load("digits", E2eSupport.cache("digits/digits.csv.gz"));
    Dataset.Split split = all.split(0.2, 0);
    Dataset.ChannelStats stats = split.train().channelStats();
    Dataset train = split.train().standardized(stats);
    Dataset test = split.validation().standardized(stats);
    BuiltModel m = E2eSupport.plainCnn(20, 16, "8x8x1", "leaky_relu", Method.TAT,
        Pooling.every(Pooling.Kind.STRIDED_CONV, 10), 0);
    BatchIterator it = BatchIterator.builder(train).batchSize(128).seed(0).dropLast(true).build();
    dev.dks.trainers.optim.LearningRateSchedule lr =
        dev.dks.trainers.optim.LearningRateSchedule.cosineWithWarmup(0.006 * lrScale, steps / 10,
            steps);
    TrainingSpec spec = TrainingSpec.defaults().withOptimizer(SgdOptimizer.Kind.NESTEROV)
        .withL2(0);
    try (TrainingGraph tg = TrainingGraph.build(m.model(), spec)) {
      for (long s = 0; s < steps; s++) {
        Batch b = it.batchAt(s);
        double[] la = tg.step(b.images(), new long[] {b.size(), 8, 8, 1}, b.oneHot(), lr.at(s),
            0.9);
        System.out.printf(Locale.ROOT, "step %d loss %.6f acc %.4f%n", s, la[0], la[1]);
      }
      dev.dks.trainers.loop.EvaluationResult eval =
          dev.dks.trainers.loop.EvaluationListener.evaluate(tg, test, steps, 1000);
      System.out.printf(Locale.ROOT, "test accuracy %.4f loss %.4f%n", eval.accuracy(),
          eval.loss());
    }
  }

  static Map<String, float[]> read(String f) throws IOException {
    Map<String, float[]> m = new java.util.LinkedHashMap<>();
    try (java.io.DataInputStream in = new java.io.DataInputStream(new java.io.FileInputStream(f))) {
      while (in.available() > 0) {
        String k = in.readUTF();
        float[] v = new float[in.readInt()];
        for (int i = 0; i < v.length; i++) {
          v[i] = in.readFloat();
        }
        m.put(k, v);
      }
    }
    return m;
  }

  static double rel(float[] a, float[] ref) {
    double m = 0;
    double d = 0;
    for (int i = 0; i < ref.length; i++) {
      m = Math.max(m, Math.abs(ref[i]));
      d = Math.max(d, Math.abs(a[i] - ref[i]));
    }
    return m == 0 ? d : d / m;
  }
}
