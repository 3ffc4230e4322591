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
import dev.dks.trainers.kfac.KfacOptions;
import dev.dks.trainers.loop.EvaluationListener;
import dev.dks.trainers.loop.EvaluationResult;
import dev.dks.trainers.optim.LearningRateSchedule;
import dev.dks.trainers.optim.SgdOptimizer;
import java.util.Locale;

/**
 * Diagnostic main (not a test): DigitsShapedVsUnshapedTest's run (seed, shaped or not) with the
 * peak learning rate scaled by each of a list of factors, one line per run: test accuracy, the
 * largest loss rise above the run's best loss so far (a spike: when, how big) and the peak lr.
 * Args: {@code nesterov|kfac shaped|unshaped SEED PEAK_LR SCALE,SCALE,.. [STEPS]}.
 */
public final class DigitsSweepProbe {
  private DigitsSweepProbe() {}

  public static void main(String[] args) {
    boolean kfac = args[0].equals("kfac");
    boolean shaped = args[1].equals("shaped");
    long seed = Long.parseLong(args[2]);
    double peak = Double.parseDouble(args[3]);
    long steps = args.length > 5 ? Long.parseLong(args[5]) : 400;
    Dataset all = DataSets.load("digits", E2eSupport.cache("digits/digits.csv.gz"));
    Dataset.Split split = all.split(0.2, seed);
    Dataset.ChannelStats stats = split.train().channelStats();
    Dataset train = split.train().standardized(stats);
    Dataset test = split.validation().standardized(stats);
    for (String sc : args[4].split(",")) {
      double scale = Double.parseDouble(sc);
      BuiltModel m = shaped
          ? E2eSupport.plainCnn(20, 16, "8x8x1", "leaky_relu", Method.TAT,
              Pooling.every(Pooling.Kind.STRIDED_CONV, 10), seed)
          : E2eSupport.plainCnn(20, 16, "8x8x1", "relu", null,
              Pooling.every(Pooling.Kind.STRIDED_CONV, 10), seed);
      BatchIterator it = BatchIterator.builder(train).batchSize(128).seed(seed).dropLast(true)
          .build();
      LearningRateSchedule lr = LearningRateSchedule.cosineWithWarmup(peak * scale, steps / 10,
          steps);
      TrainingSpec spec = kfac ? TrainingSpec.defaults().withKfac(KfacOptions.defaults()
          .withPatchRowsPerDimension(3).withSeed(seed))
          : TrainingSpec.defaults().withOptimizer(SgdOptimizer.Kind.NESTEROV);
      long t0 = System.nanoTime();
      try (TrainingGraph tg = TrainingGraph.build(m.model(), spec)) {
        double best = Double.POSITIVE_INFINITY;
        double rise = 0;
        long riseAt = -1;
        int resets = 0;
        boolean low = false;
        StringBuilder trace = new StringBuilder();
        double maxLoss = 0;
        java.util.List<Batch> burnIn = new java.util.ArrayList<>();
        for (int i = 0; i < tg.burnInBatches(); i++) {
          burnIn.add(it.batchAt(i));
        }
        if (!burnIn.isEmpty()) {
          tg.burnIn(burnIn);
        }
        for (long s = 0; s < steps; s++) {
          Batch b = it.batchAt(s);
          double[] la = tg.step(s, b.images(), new long[] {b.size(), 8, 8, 1}, b.oneHot(),
              lr.at(s), 0.9);
          double loss = la[0];
          if (!Double.isFinite(loss)) {
            trace.append(" nonfinite@").append(s);
            break;
          }
          maxLoss = Math.max(maxLoss, loss);
          if (loss - best > rise) {
            rise = loss - best;
            riseAt = s;
          }
          best = Math.min(best, loss);
          if (loss < 1.0) {
            low = true;
          }
          if (low && loss > 2.0) {
            resets++;
            trace.append(String.format(Locale.ROOT, " %d:%.2f", s, loss));
            low = false;
          }
        }
        EvaluationResult eval = EvaluationListener.evaluate(tg, test, steps, 1000);
        System.out.printf(Locale.ROOT, "%s %s seed %d lr %.9f (x%s): test acc %.4f loss %.4f; "
            + "largest rise %.2f at step %d, max loss %.2f, resets (loss <1 then >2) %d%s; "
            + "%.0f s%n",
            args[0], args[1], seed, peak * scale, sc, eval.accuracy(), eval.loss(), rise, riseAt,
            maxLoss, resets, trace, (System.nanoTime() - t0) / 1e9);
      }
    }
  }
}
