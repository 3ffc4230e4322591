package dev.dks.trainers.distributed;

import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.trainers.data.BatchIterator;
import dev.dks.trainers.data.SyntheticTask;
import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.graph.TrainingSpec;
import dev.dks.trainers.kfac.ConvApproximation;
import dev.dks.trainers.kfac.DampingAdaptation;
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
 * per-step losses and final weights to a file, then exits (TF servers cannot be stopped; see
 * ClusterServer).
 */
public final class ReplicaRun {
  static final int BATCH = 24;
  /** The K-FAC options of the "kfac" runs. */
  static final KfacOptions KFAC = KfacOptions.defaults().withConv(ConvApproximation.EXPAND)
      .withPatchRowsPerDimension(3).withPeriods(1, 5).withBurnIn(3)
      .withAdaptation(DampingAdaptation.standard());

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
    try (TrainingGraph tg = TrainingGraph.build(model(), spec(mode))) {
      return train(tg, globalBatches(), steps, mode);
    }
  }

  /**
   * {@code ReplicaRun MODES STEPS OUT [TIMEOUT]}: one replica of the TF_CONFIG cluster runs each
   * of the comma-separated modes in turn (on the same server), writing {@code OUT.MODE}; its
   * collectives wait at most TIMEOUT seconds (default 30) for the peers; exit 1 with one line on
   * failure.
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
