package dev.dks.trainers.distributed;

import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.savedmodels.export.ServingExporter;
import dev.dks.trainers.data.BatchIterator;
import dev.dks.trainers.data.SyntheticTask;
import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.graph.TrainingSpec;
import dev.dks.trainers.kfac.ConvApproximation;
import dev.dks.trainers.kfac.DampingAdaptation;
import dev.dks.trainers.kfac.FisherEstimation;
import dev.dks.trainers.kfac.InverseMethod;
import dev.dks.trainers.kfac.KfacOptions;
import dev.dks.trainers.loop.BatchSource;
import dev.dks.trainers.loop.StepResult;
import dev.dks.trainers.loop.Trainer;
import dev.dks.trainers.loop.TrainingContext;
import dev.dks.trainers.loop.TrainingListener;
import dev.dks.trainers.optim.LearningRateSchedule;
import dev.dks.trainers.optim.SgdOptimizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.TensorProto;

/**
 * The runs both sides of {@link DistributedTrainingTest} perform: a small plain CNN (8x8x1
 * inputs, 3 classes) over seeded synthetic data, global batch {@link #BATCH}, trained by Nesterov
 * SGD or by K-FAC ({@link #KFAC}: KFC-expand conv blocks with sampled patch rows, sampled targets,
 * burn-in, inverses every 5 steps, adaptive damping, so that every statistic that depends on the
 * split of the batch is exercised). In the test JVM it runs as one process; {@link #main} runs
 * them one after the other as one replica of the cluster in {@code TF_CONFIG}, writing each run's
 * per-step losses and final weights to a file (the chief also exports the trained model as a
 * serving SavedModel, as {@code dks train} does), then exits (TF servers cannot be stopped; see
 * ClusterServer). Every optimizer setting is pinned here, so changes to the library's defaults
 * do not change these runs.
 */
public final class ReplicaRun {
  static final int BATCH = 24;
  /**
   * The K-FAC options of the "kfac" runs, every field pinned here (not taken from the library's
   * defaults, which may change): EMA 0.99, statistics every step, inverses every 5, burn-in 3,
   * damping 1e-2 adapted by the Levenberg-Marquardt rule, norm constraint 1e-3, sampled targets,
   * Cholesky, KFC-expand convs with 3 d_A sampled patch rows.
   */
  static final KfacOptions KFAC = KfacOptions.tatRecipe().withCurvatureEma(0.99)
      .withPeriods(1, 5).withBurnIn(3).withDamping(1e-2).withNormConstraint(1e-3)
      .withEstimation(FisherEstimation.SAMPLED).withInverse(InverseMethod.CHOLESKY)
      .withStatisticsExamples(0).withSeed(0).withConv(ConvApproximation.EXPAND)
      .withPatchRowsPerDimension(3).withAdaptation(DampingAdaptation.standard());

  private ReplicaRun() {}

  static Model model() {
    return ModelBuilder.build(ArchitectureSpec.builder(Architecture.PLAIN_CNN, 3).width(8)
        .input("8x8x1").classes(3).seed(5).build()).model();
  }

  static BatchSource globalBatches() {
    return BatchSource.of(BatchIterator.builder(SyntheticTask.generate("syn", 240, 8, 8, 1, 3,
        1.0, 7, 0)).batchSize(BATCH).seed(13).dropLast(true).build());
  }

  static TrainingSpec spec() {
    return spec("nesterov");
  }

  /** "nesterov", or "kfac" ({@link #KFAC}); {@code kfac-N} uses statistics of N examples. */
  static TrainingSpec spec(String mode) {
    TrainingSpec nesterov = TrainingSpec.defaults().withOptimizer(SgdOptimizer.Kind.NESTEROV)
        .withL2(1e-4);
    if (mode.equals("nesterov")) {
      return nesterov;
    }
    if (mode.startsWith("kfac")) {
      int n = mode.equals("kfac") ? 0 : Integer.parseInt(mode.substring(5));
      return nesterov.withKfac(KFAC.withStatisticsExamples(n));
    }
    throw new IllegalArgumentException(mode);
  }

  /** The learning rate of a mode (K-FAC steps are larger: preconditioned and norm-limited). */
  static double learningRate(String mode) {
    return mode.startsWith("kfac") ? 0.02 : 0.05;
  }

  /** Per-step losses, then the final value of every model variable, one "name v0 v1 ..." line. */
  static List<String> train(TrainingGraph tg, BatchSource source, long steps) {
    return train(tg, source, steps, "nesterov");
  }

  static List<String> train(TrainingGraph tg, BatchSource source, long steps, String mode) {
    List<String> lines = new ArrayList<>();
    TrainingListener record = new TrainingListener() {
      @Override
      public void onStep(TrainingContext c, StepResult r) {
        lines.add("loss " + r.step() + " " + r.loss());
      }
    };
    Trainer.builder(tg, source).schedule(LearningRateSchedule.constant(learningRate(mode))).momentum(0.9)
        .totalSteps(steps).listener(record).build().run();
    for (Map.Entry<String, TensorProto> e : tg.variables().entrySet()) {
      float[] v = TensorProtos.floats(e.getValue());
      StringBuilder sb = new StringBuilder("var ").append(e.getKey());
      for (float f : v) {
        sb.append(' ').append(f);
      }
      lines.add(sb.toString());
    }
    return lines;
  }

  /** One process, the global batch. */
  static List<String> single(long steps) {
    return single(steps, "nesterov");
  }

  /** One process, the global batch, the given mode. */
  static List<String> single(long steps, String mode) {
    return single(steps, mode, null);
  }

  /**
   * One process, the global batch, the given mode; the trained model is exported as a serving
   * SavedModel into the new folder {@code serving} unless it is null.
   */
  static List<String> single(long steps, String mode, Path serving) {
    try (TrainingGraph tg = TrainingGraph.build(model(), spec(mode))) {
      List<String> lines = train(tg, globalBatches(), steps, mode);
      if (serving != null) {
        exportServing(tg, serving);
      }
      return lines;
    }
  }

  /** The model with the trained variables, exported for serving as {@code dks train} does. */
  static void exportServing(TrainingGraph tg, Path dir) {
    Model m = model();
    ServingExporter.export(m.with(m.graph(), tg.variables()), dir);
  }

  /**
   * {@code ReplicaRun MODES STEPS OUT [TIMEOUT]}: one replica of the TF_CONFIG cluster runs each
   * of the comma-separated modes in turn (on the same server), writing {@code OUT.MODE}; its
   * collectives wait at most TIMEOUT seconds (default 30) for the peers; the chief also exports
   * each mode's trained model to {@code OUT.MODE.serving}; exit 1 with one line on failure.
   */
  public static void main(String[] args) {
    int code = 0;
    try {
      String[] modes = args[0].split(",");
      long steps = Long.parseLong(args[1]);
      Path out = Path.of(args[2]);
      ClusterSpec spec = ClusterSpec.fromEnvironment(System.getenv())
          .orElseThrow(() -> new IllegalStateException("no TF_CONFIG"));
      float timeout = args.length > 3 ? Float.parseFloat(args[3]) : 30;
      ClusterServer server = ClusterServer.start(spec, null, timeout);
      for (String mode : modes) {
        List<String> lines;
        try (TrainingGraph tg = TrainingGraph.build(model(), spec(mode), null, server)) {
          tg.syncFromRank0();
          lines = train(tg, new ShardedBatches(globalBatches(), spec.rank(), spec.size()), steps,
              mode);
          // final barrier: nobody exits (taking its server down) before every peer is done
          var done = server.barrier(Ops.create(tg.graph()), "finished", timeout);
          tg.session().runner().fetch(done).run().close();
          if (spec.isChief()) {
            exportServing(tg, out.resolveSibling(out.getFileName() + "." + mode + ".serving"));
          }
        }
        Path file = out.resolveSibling(out.getFileName() + "." + mode);
        Path tmp = out.resolveSibling(out.getFileName() + "." + mode + ".tmp");
        Files.write(tmp, lines);
        Files.move(tmp, file);
      }
      Thread.sleep(1000);
    } catch (RuntimeException | IOException | InterruptedException e) {
      System.err.println("replica failed: " + e.toString().replaceAll("\\s+", " "));
      code = 1;
    }
    System.out.flush();
    System.err.flush();
    Runtime.getRuntime().halt(code);
  }

  /** The "loss" lines' values. */
  static double[] losses(List<String> lines) {
    return lines.stream().filter(l -> l.startsWith("loss ")).mapToDouble(
        l -> Double.parseDouble(l.split(" ")[2])).toArray();
  }

  /** The "var" lines' values, concatenated. */
  static double[] weights(List<String> lines) {
    return lines.stream().filter(l -> l.startsWith("var ")).flatMap(l -> java.util.Arrays
        .stream(l.split(" ")).skip(2)).mapToDouble(Double::parseDouble).toArray();
  }

  static String describe(List<String> lines) {
    return lines.stream().filter(l -> l.startsWith("loss")).collect(Collectors.joining("; "));
  }
}
