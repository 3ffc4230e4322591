package dev.dks.trainers.e2e;

import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.BuiltModel;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.builder.Pooling;
import dev.dks.savedmodels.assets.SharedAssets;
import dev.dks.solver.solve.Method;
import dev.dks.trainers.data.Batch;
import dev.dks.trainers.data.BatchIterator;
import dev.dks.trainers.data.Dataset;
import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.graph.TrainingSpec;
import dev.dks.trainers.loop.EvaluationListener;
import dev.dks.trainers.loop.EvaluationResult;
import dev.dks.trainers.optim.LearningRateSchedule;
import dev.dks.trainers.optim.SgdOptimizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.opentest4j.TestAbortedException;

/** Shared pieces of the end-to-end training tests: data from the cache, a run, an evaluation. */
final class E2eSupport {
  private E2eSupport() {}

  /** The data cache, after checking that every file in {@code relatives} is in it (else skip). */
  static Path cache(String... relatives) {
    for (String r : relatives) {
      SharedAssets.dataCacheOrSkip(r, TestAbortedException::new);
    }
    return SharedAssets.dataCacheDir();
  }

  /** A plain CNN of {@code depth} conv layers; shaped by {@code method} unless it is null. */
  static BuiltModel plainCnn(int depth, int width, String input, String activation,
      Method method, Pooling pooling, long seed) {
    ArchitectureSpec.Builder b = ArchitectureSpec.builder(Architecture.PLAIN_CNN, depth)
        .width(width).input(input).activation(activation).pooling(pooling).seed(seed);
    if (method != null) {
      b.shaped(method);
    }
    return ModelBuilder.build(b.build());
  }

  /** What a run measured. */
  record Result(String what, long steps, double seconds, double lastTrainAccuracy,
      double testAccuracy, double testLoss) {
    double stepsPerSecond() {
      return steps / seconds;
    }

    @Override
    public String toString() {
      return String.format(Locale.ROOT, "%s: %d steps in %.1f s (%.2f steps/s), last train "
          + "accuracy %.4f, test accuracy %.4f (loss %.4f)", what, steps, seconds,
          stepsPerSecond(), lastTrainAccuracy, testAccuracy, testLoss);
    }
  }

  /**
   * Trains {@code model} on {@code train} for {@code steps} steps of Nesterov momentum 0.9 with
   * a cosine schedule after a linear warm-up, then evaluates on all of {@code test}.
   */
  static Result trainAndEvaluate(String what, BuiltModel model, Dataset train, Dataset test,
      int batch, long steps, double lr0, long warmup, double labelSmoothing, double l2,
      long dataSeed) {
    TrainingSpec spec = TrainingSpec.defaults().withOptimizer(SgdOptimizer.Kind.NESTEROV)
        .withL2(l2);
    return trainAndEvaluate(what, model, train, test, batch, steps, spec,
        LearningRateSchedule.cosineWithWarmup(lr0, warmup, steps), 0.9, labelSmoothing,
        dataSeed);
  }

  /**
   * Trains {@code model} on {@code train} for {@code steps} steps of the optimizer of
   * {@code spec} (with K-FAC's burn-in on the first batches first, as {@code Trainer} and
   * {@code dks train} do), learning rate {@code lr} and momentum {@code momentum}, then evaluates
   * on all of {@code test}.
   */
  static Result trainAndEvaluate(String what, BuiltModel model, Dataset train, Dataset test,
      int batch, long steps, TrainingSpec spec, LearningRateSchedule lr, double momentum,
      double labelSmoothing, long dataSeed) {
    BatchIterator it = BatchIterator.builder(train).batchSize(batch).seed(dataSeed)
        .dropLast(true).labelSmoothing((float) labelSmoothing).build();
    try (TrainingGraph tg = TrainingGraph.build(model.model(), spec)) {
      long t0 = System.nanoTime();
      List<Batch> burnIn = new ArrayList<>();
      for (int i = 0; i < tg.burnInBatches(); i++) {
        burnIn.add(it.batchAt(i));
      }
      if (!burnIn.isEmpty()) {
        tg.burnIn(burnIn);
      }
      double lastAcc = 0;
      double window = 0;
      int inWindow = 0;
      for (long s = 0; s < steps; s++) {
        Batch b = it.batchAt(s);
        double[] la = tg.step(s, b.images(), shape(b.size(), train), b.oneHot(), lr.at(s),
            momentum);
        if (!Double.isFinite(la[0])) {
          throw new AssertionError(what + ": loss " + la[0] + " at step " + s);
        }
        window += la[1];
        inWindow++;
        if ((s + 1) % 100 == 0 || s + 1 == steps) {
          lastAcc = window / inWindow;
          System.out.printf(Locale.ROOT, "  %s step %d: loss %.4f, train accuracy (last %d) "
              + "%.4f, lr %.4g, %.2f steps/s%n", what, s + 1, la[0], inWindow, lastAcc,
              lr.at(s), (s + 1) / ((System.nanoTime() - t0) / 1e9));
          window = 0;
          inWindow = 0;
        }
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      EvaluationResult eval = EvaluationListener.evaluate(tg, test, steps, 1000);
      return new Result(what, steps, seconds, lastAcc, eval.accuracy(), eval.loss());
    }
  }

  private static long[] shape(int n, Dataset d) {
    return new long[] {n, d.h(), d.w(), d.c()};
  }
}
