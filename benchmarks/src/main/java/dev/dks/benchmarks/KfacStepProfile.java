package dev.dks.benchmarks;

import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.BuiltModel;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.builder.Pooling;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.solver.solve.Method;
import dev.dks.trainers.device.DevicePlacement;
import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.graph.TrainingSpec;
import dev.dks.trainers.kfac.KfacGraph;
import dev.dks.trainers.kfac.KfacOptions;
import dev.dks.trainers.optim.SgdOptimizer;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.proto.DeviceStepStats;
import org.tensorflow.proto.NodeExecStats;
import org.tensorflow.proto.RunMetadata;
import org.tensorflow.proto.RunOptions;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * Where the time of a K-FAC step goes (issue 16), on one network with {@link
 * KfacOptions#defaults()} (or the options given): each piece is run on its own as a session call
 * and timed next to an SGD (Nesterov) step of the same network, all interleaved in one process,
 * round by round, in a rotating order. Times are the median wall and the median <b>process CPU
 * time</b> (every TF thread of this JVM; other processes' load does not enter it) of each piece.
 *
 * <p>Pieces: {@code forward} (loss only); {@code sgd step} (forward, backward, Nesterov update);
 * {@code kfac statistics} (forward, the sampled backward pass, the factor statistics: the
 * statistics target); {@code kfac inverses} (the inverse refresh alone, no data); and the three
 * kinds of K-FAC step through {@link TrainingGraph#step} (plain, statistics, inverse), whose
 * medians, weighted by the schedule, give the mean step over one inverse period.
 *
 * <p>Usage: {@code java -cp benchmarks.jar dev.dks.benchmarks.KfacStepProfile [--arch
 * plain|plain-resnet] [--depth 20] [--width 16] [--batch 128] [--rounds 5] [--warmup 1]
 * [--threads 0] [--inter-threads 0] [--trace-repeats 3 (0: no trace)] [--kfac "default;
 * examples=32;stats=2"] [--pooling none|stride|avg|max] [--pool-every 4] [--json FILE]}: {@code --kfac} lists K-FAC variants (see {@link
 * #variant}), each timed by its own pieces in the same interleaved rounds.
 */
public final class KfacStepProfile {
  private KfacStepProfile() {}

  static final class Options {
    String arch = "plain";
    int depth = 20;
    int width = 16;
    int batch = 128;
    int rounds = 5;
    int warmup = 1;
    int threads = 0;
    int interThreads = 0;
    int traceRepeats = 3;
    /** K-FAC variants: {@code default}, or comma lists of examples=N and stats=K. */
    String kfac = "default";
    /** Down-sampling of the plain CNN: none, or stride/avg/max every {@link #poolEvery}. */
    String pooling = "none";
    int poolEvery = 4;
    Path json = Path.of("benchmarks/target/kfac-step-profile.json");

    static Options parse(String[] args) {
      Options o = new Options();
      boolean parsed = HarnessSupport.parsePairs(args, (a, v) -> {
        switch (a) {
          case "--arch" -> o.arch = v;
          case "--depth" -> o.depth = Integer.parseInt(v);
          case "--width" -> o.width = Integer.parseInt(v);
          case "--batch" -> o.batch = Integer.parseInt(v);
          case "--rounds" -> o.rounds = Integer.parseInt(v);
          case "--warmup" -> o.warmup = Integer.parseInt(v);
          case "--threads" -> o.threads = Integer.parseInt(v);
          case "--inter-threads" -> o.interThreads = Integer.parseInt(v);
          case "--trace-repeats" -> o.traceRepeats = Integer.parseInt(v);
          case "--kfac" -> o.kfac = v;
          case "--pooling" -> o.pooling = v;
          case "--pool-every" -> o.poolEvery = Integer.parseInt(v);
          case "--json" -> o.json = Path.of(v);
          default -> throw HarnessSupport.unknown(a);
        }
      });
      return parsed ? o : null;
    }
  }

  /** The networks: the plain TAT CNN, or the ResNet-50 layout without skips and BN. */
  static BuiltModel network(String arch, int depth, int width, String input, int classes) {
    return network(arch, depth, width, input, classes, Pooling.NONE);
  }

  /** As above, with down-sampling (the README's {@code cnn}: stride every 4). */
  static BuiltModel network(String arch, int depth, int width, String input, int classes,
      Pooling pooling) {
    ArchitectureSpec.Builder b = switch (arch) {
      case "plain" -> ArchitectureSpec.builder(Architecture.PLAIN_CNN, depth).width(width);
      case "plain-resnet" -> ArchitectureSpec.builder(Architecture.RESNET, depth).width(width)
          .resnetV2(true).shortcutWeight(0);
      default -> throw new IllegalArgumentException("--arch: plain or plain-resnet, got " + arch);
    };
    if (pooling.kind() != Pooling.Kind.NONE) {
      b.pooling(pooling);
    }
    return ModelBuilder.build(b.activation("leaky_relu").shaped(Method.TAT).input(input)
        .classes(classes).seed(0).build());
  }

  /** The process's CPU time in nanoseconds (all threads, native ones included). */
  static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory
        .getOperatingSystemMXBean()).getProcessCpuTime();
  }

  public static void main(String[] args) throws IOException {
    Options o = HarnessSupport.parseOrExit(args, Options::parse);
    if (o == null) {
      System.out.println("usage: KfacStepProfile [--arch plain|plain-resnet] [--depth 20] "
          + "[--width 16] [--batch 128] [--rounds 5] [--warmup 1] [--threads 0] "
          + "[--inter-threads 0] [--trace-repeats 3] [--kfac \"default;examples=32;stats=2\"] "
          + "[--json FILE]");
      return;
    }
    PrintStream out = System.out;
    long start = System.nanoTime();
    HarnessSupport.printEnvironment(out);
    ConfigProto config = DevicePlacement.config(false, o.threads, o.interThreads);
    Pooling.Kind kind = Pooling.Kind.parse(o.pooling);
    BuiltModel built = network(o.arch, o.depth, o.width, "28x28x1", 10,
        kind == Pooling.Kind.NONE ? Pooling.NONE : Pooling.every(kind, o.poolEvery));
    Model model = built.model();
    HarnessSupport.FixedBatch fixed = HarnessSupport.syntheticBatch(model, o.batch, 10);
    String inputName = model.signature(Signature.SERVING_DEFAULT).inputs().values().iterator()
        .next().tensor().toString();
    List<String> labels = new ArrayList<>();
    List<KfacOptions> variants = new ArrayList<>();
    for (String v : o.kfac.split(";")) {
      labels.add(v.trim());
      variants.add(variant(v.trim()));
    }
    out.printf(Locale.ROOT, "network: %s; %,d parameters; batch %d%n", built.spec().describe(),
        built.parameterCount(), o.batch);
    for (int i = 0; i < variants.size(); i++) {
      out.printf(Locale.ROOT, "K-FAC variant '%s': %s%n", labels.get(i), variants.get(i));
    }
    double lr = 1e-5;
    double mu = 0.9;
    TrainingSpec base = TrainingSpec.defaults().withOptimizer(SgdOptimizer.Kind.NESTEROV);
    Map<String, HarnessSupport.Times> times = new LinkedHashMap<>();
    List<TrainingGraph> graphs = new ArrayList<>();
    try (TrainingGraph sgd = TrainingGraph.build(model, base, config);
        TFloat32 xt = TFloat32.tensorOf(Shape.of(fixed.shape()), DataBuffers.of(fixed.x(), true,
            false));
        TFloat32 yt = TFloat32.tensorOf(Shape.of(o.batch, 10), DataBuffers.of(fixed.y(), true,
            false));
        TFloat32 rho = TFloat32.scalarOf(0.99f);
        TInt64 seed = TInt64.vectorOf(0, 1)) {
      for (KfacOptions v : variants) {
        graphs.add(TrainingGraph.build(model, base.withKfac(v), config));
      }
      Map<String, Consumer<Integer>> pieces = new LinkedHashMap<>();
      pieces.put("sgd forward (loss)", r -> sgd.trainingLoss(fixed.x(), fixed.shape(),
          fixed.y()));
      pieces.put("sgd gradients", r -> sgd.gradients(fixed.x(), fixed.shape(), fixed.y()));
      pieces.put("sgd step", r -> sgd.step(r, fixed.x(), fixed.shape(), fixed.y(), lr, mu));
      for (int i = 0; i < variants.size(); i++) {
        TrainingGraph kfac = graphs.get(i);
        KfacGraph k = kfac.kfac().orElseThrow();
        KfacOptions kfacOptions = variants.get(i);
        String p = variants.size() == 1 ? "kfac " : "kfac[" + labels.get(i) + "] ";
        int inv = kfacOptions.inverseEvery();
        int cur = kfacOptions.curvatureEvery();
        if (i == 0) {
          pieces.put(p + "forward (loss)", r -> kfac.trainingLoss(fixed.x(), fixed.shape(),
              fixed.y()));
          pieces.put(p + "gradients", r -> kfac.gradients(fixed.x(), fixed.shape(), fixed.y()));
          pieces.put(p + "inverses only", r -> kfac.session().runner().addTarget(k.inverses())
              .run().close());
        }
        pieces.put(p + "statistics only", r -> {
          Session.Runner run = kfac.session().runner().feed(inputName, xt)
              .feed(kfac.labelsName(), yt).feed(k.rho(), rho).feed(k.seed(), seed)
              .addTarget(k.statistics());
          run.run().close();
        });
        pieces.put(p + "plain step", r -> kfac.step((long) (r + 1) * inv + 1, fixed.x(),
            fixed.shape(), fixed.y(), lr, mu));
        if (inv > cur) {
          pieces.put(p + "statistics step", r -> kfac.step((long) (r + 1) * inv + cur,
              fixed.x(), fixed.shape(), fixed.y(), lr, mu));
        }
        pieces.put(p + "inverse step", r -> kfac.step((long) (r + 1) * inv, fixed.x(),
            fixed.shape(), fixed.y(), lr, mu));
      }
      pieces.keySet().forEach(name -> times.put(name, new HarnessSupport.Times()));
      List<String> names = new ArrayList<>(pieces.keySet());
      for (int round = 0; round < o.warmup + o.rounds; round++) {
        for (int j = 0; j < names.size(); j++) {
          String name = names.get((j + round) % names.size());
          long c0 = processCpuNanos();
          long t0 = System.nanoTime();
          pieces.get(name).accept(round);
          long wall = System.nanoTime() - t0;
          long cpu = processCpuNanos() - c0;
          if (round >= o.warmup) {
            times.get(name).add(wall, cpu);
          }
        }
        out.printf(Locale.ROOT, "  round %d of %d done%n", round + 1, o.warmup + o.rounds);
      }
      double sgdCpu = times.get("sgd step").cpu();
      double sgdWall = times.get("sgd step").wall();
      out.printf(Locale.ROOT, "%nmedians over %d rounds (CPU = process CPU time, all threads)%n",
          o.rounds);
      out.printf(Locale.ROOT, "  %-40s %10s %10s %10s %10s%n", "piece", "wall ms", "CPU ms",
          "CPU/sgd", "wall/sgd");
      List<Map<String, Object>> rows = new ArrayList<>();
      for (Map.Entry<String, HarnessSupport.Times> e : times.entrySet()) {
        HarnessSupport.Times t = e.getValue();
        out.printf(Locale.ROOT, "  %-40s %10.1f %10.1f %9.2fx %9.2fx%n", e.getKey(), t.wall(),
            t.cpu(), t.cpu() / sgdCpu, t.wall() / sgdWall);
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("piece", e.getKey());
        row.put("wallMs", t.wall());
        row.put("cpuMs", t.cpu());
        rows.add(row);
      }
      for (int i = 0; i < variants.size(); i++) {
        KfacOptions kfacOptions = variants.get(i);
        String p = variants.size() == 1 ? "kfac " : "kfac[" + labels.get(i) + "] ";
        int inv = kfacOptions.inverseEvery();
        int cur = kfacOptions.curvatureEvery();
        int statsPerPeriod = inv / cur;
        double mean = times.get(p + "inverse step").cpu()
            + (statsPerPeriod - 1) * (statsPerPeriod > 1 ? times.get(p + "statistics step").cpu()
            : 0) + (inv - statsPerPeriod) * times.get(p + "plain step").cpu();
        mean /= inv;
        out.printf(Locale.ROOT, "  %smean step over one inverse period (CPU): %.1f ms = %.2fx "
            + "SGD (goal <= 1.2x)%n", p, mean, mean / sgdCpu);
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("piece", p + "mean step (CPU)");
        row.put("variant", labels.get(i));
        row.put("cpuMs", mean);
        row.put("ratioToSgdCpu", mean / sgdCpu);
        row.put("network", built.spec().describe());
        rows.add(row);
      }
      if (o.traceRepeats > 0) {
        for (int i = 0; i < variants.size(); i++) {
          out.printf(Locale.ROOT, "%n== traces, K-FAC variant '%s'%n", labels.get(i));
          traced(out, sgd, graphs.get(i), graphs.get(i).kfac().orElseThrow(), inputName, xt, yt,
              rho, seed, o.traceRepeats);
        }
      }
      HarnessSupport.finish(out, start, o.json, rows);
    } finally {
      graphs.forEach(TrainingGraph::close);
    }
  }

  /**
   * A K-FAC variant: {@code default} ({@link KfacOptions#defaults()}), or a comma list applied to
   * the defaults: {@code examples=N} (statistics examples), {@code stats=K} (statistics every K
   * steps), {@code inv=K} (inverses every K steps).
   */
  static KfacOptions variant(String spec) {
    KfacOptions k = KfacOptions.defaults();
    if (spec.equals("default")) {
      return k;
    }
    int stats = k.curvatureEvery();
    int inv = k.inverseEvery();
    for (String kv : spec.split(",")) {
      String[] p = kv.split("=", 2);
      if (p.length != 2) {
        throw new IllegalArgumentException("--kfac: expected key=value in '" + spec + "'");
      }
      switch (p[0].trim()) {
        case "examples" -> k = k.withStatisticsExamples(Integer.parseInt(p[1].trim()));
        case "stats" -> stats = Integer.parseInt(p[1].trim());
        case "inv" -> inv = Integer.parseInt(p[1].trim());
        default -> throw new IllegalArgumentException("--kfac: unknown key " + p[0]);
      }
    }
    return k.withPeriods(stats, inv);
  }

  /**
   * One traced run (FULL_TRACE) of the SGD step, the K-FAC update and the K-FAC statistics and
   * update; prints the summed op time by scope (the node name's first two levels) and by op type.
   */
  private static void traced(PrintStream out, TrainingGraph sgd, TrainingGraph kfac, KfacGraph k,
      String inputName, TFloat32 xt, TFloat32 yt, TFloat32 rho, TInt64 seed, int repeats) {
    RunOptions fullTrace = RunOptions.newBuilder()
        .setTraceLevel(RunOptions.TraceLevel.FULL_TRACE).build();
    try (TFloat32 lrt = TFloat32.scalarOf(1e-5f);
        TFloat32 mut = TFloat32.scalarOf(0.9f)) {
      Map<String, java.util.function.Supplier<Session.Runner>> runs = new LinkedHashMap<>();
      runs.put("sgd step", () -> sgd.session().runner().feed(inputName, xt)
          .feed(sgd.labelsName(), yt).feed("train/learning_rate", lrt)
          .feed("train/momentum", mut).addTarget("train/optimizer/apply").fetch("train/loss"));
      runs.put("kfac plain step", () -> kfac.session().runner().feed(inputName, xt)
          .feed(kfac.labelsName(), yt).feed("train/learning_rate", lrt)
          .feed("train/momentum", mut).addTarget(k.apply()).fetch("train/loss")
          .fetch(k.applyOutputs().gradientDotUpdate()).fetch(k.applyOutputs().clip())
          .fetch(k.applyOutputs().modelChange()));
      runs.put("kfac statistics step", () -> kfac.session().runner().feed(inputName, xt)
          .feed(kfac.labelsName(), yt).feed("train/learning_rate", lrt)
          .feed("train/momentum", mut).feed(k.rho(), rho).feed(k.seed(), seed)
          .addTarget(k.statisticsAndApply()).fetch("train/loss"));
      for (Map.Entry<String, java.util.function.Supplier<Session.Runner>> e : runs.entrySet()) {
        e.getValue().get().run().close();
        Map<String, Double> byScope = new java.util.TreeMap<>();
        Map<String, Double> byType = new java.util.TreeMap<>();
        int nodes = 0;
        for (int i = 0; i < repeats; i++) {
          try (Result r = e.getValue().get().setOptions(fullTrace).runAndFetchMetadata()) {
            RunMetadata md = r.getMetadata().orElseThrow();
            for (DeviceStepStats d : md.getStepStats().getDevStatsList()) {
              for (NodeExecStats n : d.getNodeStatsList()) {
                double ms = n.getAllEndRelMicros() / 1e3 / repeats;
                String[] parts = n.getNodeName().split("/");
                String scope = parts.length > 2 && parts[0].equals("train")
                    ? parts[0] + "/" + parts[1] + "/" + parts[2] : parts[0];
                if (parts[0].startsWith("kfac_statistics")) {
                  scope = "(sub-batch forward copy)";
                } else if (scope.startsWith("gradients")) {
                  scope = "gradients";
                } else if (!scope.startsWith("train")) {
                  scope = "(model forward)";
                }
                byScope.merge(scope, ms, Double::sum);
                String label = n.getTimelineLabel();
                int eq = label.indexOf(" = ");
                int paren = label.indexOf('(', Math.max(eq, 0));
                String type = eq >= 0 && paren > eq ? label.substring(eq + 3, paren).trim() : "?";
                byType.merge(type, ms, Double::sum);
                if (i == 0) {
                  nodes++;
                }
              }
            }
          }
        }
        double total = byScope.values().stream().mapToDouble(Double::doubleValue).sum();
        out.printf(Locale.ROOT, "%ntraced %s: %d nodes, op time sum %.1f ms (mean of %d)%n",
            e.getKey(), nodes, total, repeats);
        byScope.entrySet().stream().sorted((a, b) -> Double.compare(b.getValue(), a.getValue()))
            .limit(8).forEach(x -> out.printf(Locale.ROOT, "    scope %-40s %8.1f ms%n",
                x.getKey(), x.getValue()));
        byType.entrySet().stream().sorted((a, b) -> Double.compare(b.getValue(), a.getValue()))
            .limit(10).forEach(x -> out.printf(Locale.ROOT, "    op    %-40s %8.1f ms%n",
                x.getKey(), x.getValue()));
      }
    }
  }
}
