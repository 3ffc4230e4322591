package dev.dks.benchmarks;

import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.BuiltModel;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.builder.Pooling;
import dev.dks.rewriter.model.Model;
import dev.dks.solver.solve.Method;
import dev.dks.trainers.device.DevicePlacement;
import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.graph.TrainingSpec;
import dev.dks.trainers.kfac.ConvApproximation;
import dev.dks.trainers.kfac.KfacOptions;
import dev.dks.trainers.optim.SgdOptimizer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.tensorflow.proto.ConfigProto;

/**
 * Step time of K-FAC against SGD with Nesterov momentum on the reference network of issue 5
 * (plain CNN, TAT-shaped leaky ReLU, depth 50, width 64, 28x28x1, 10 classes, batch 128, no
 * down-sampling; every figure can be overridden). Goal of the issue: K-FAC with inverses every 50
 * steps under 1.5x SGD's step time.
 *
 * <p>Variants, each in its own {@link TrainingGraph} in one process: SGD (Nesterov); K-FAC TAT
 * recipe (statistics every step, inverses every 50, KFC-expand convs); the recipe with
 * K-FAC-reduce convs; the recipe with each conv's A estimated from {@code 3 d_A} sampled patch
 * rows; the recipe with statistics every 10 steps; K-FAC-reduce with statistics every 2 steps;
 * no amortization (statistics and inverses every step); and {@code KfacOptions.defaults()}
 * (issue 16's goal: at most 1.2x SGD).
 *
 * <p><b>What is timed</b>: a K-FAC step is one of three kinds, by the global step number
 * ({@code KfacGraph.phases}): an <i>inverse step</i> (statistics, inverse refresh, update:
 * steps that are multiples of the inverse period), a <i>statistics step</i> (statistics and
 * update in one run: other multiples of the statistics period) and a <i>plain step</i> (update
 * only). Rather than running 50 steps per variant (minutes per variant on 2 cores) the harness
 * times each kind it needs per variant by passing a chosen global step to {@link
 * TrainingGraph#step(long, float[], long[], float[], double, double)}, and combines the medians
 * with the schedule's frequencies over one inverse period I with statistics period C:
 * {@code mean = (t_inv + (I/C - 1) t_stats + (I - I/C) t_plain) / I}. That is the mean step time
 * of a 50-step window, amortized. Every round runs one step of every kind of every variant, in
 * an order that rotates from round to round, so load on the machine hits them alike.
 *
 * <p>The fed batch is one fixed synthetic batch and the learning rate is tiny (1e-5), so the
 * weights barely move and every inverse refresh sees sane factors; the times do not depend on the
 * values.
 *
 * <p>Usage: {@code java -cp benchmarks.jar dev.dks.benchmarks.KfacStepTimeHarness [--depth 50]
 * [--width 64] [--batch 128] [--steps 5] [--warmup 1] [--threads 0] [--input 28x28x1]
 * [--stats-examples 0] [--pooling none|stride|... --pool-every 4] [--variants all|defaults]
 * [--periods C/I,...] [--json FILE]}. {@code --variants defaults} times only SGD, the K-FAC
 * defaults, the defaults before issue 16 (statistics at every step from the whole batch) and the
 * defaults with {@code --stats-examples} (issue 16); {@code --periods 1/10,5/10}
 * times SGD and the defaults with each statistics/inverse period pair (each also with
 * {@code --stats-examples} when given). Wall and process CPU times are both reported.
 * Prints a table and one line {@code JSON {...}}; the JSON also goes to
 * {@code benchmarks/target/kfac-step-time.json}.
 */
public final class KfacStepTimeHarness {
  private KfacStepTimeHarness() {}

  /** The step kinds. */
  enum Kind {
    PLAIN, STATS, INVERSE
  }

  static final class Options {
    int depth = 50;
    int width = 64;
    int batch = 128;
    int steps = 5;
    int warmup = 1;
    int threads = 0;
    int classes = 10;
    int statsExamples = 0;
    String input = "28x28x1";
    String pooling = "none";
    int poolEvery = 4;
    boolean defaultsOnly = false;
    Path json = Path.of("benchmarks/target/kfac-step-time.json");
    /** Statistics/inverse periods {@code "C/I,C/I,..."} of the defaults to time, or null. */
    String periods;

    static Options parse(String[] args) {
      Options o = new Options();
      boolean parsed = HarnessSupport.parsePairs(args, (a, v) -> {
        switch (a) {
          case "--depth" -> o.depth = Integer.parseInt(v);
          case "--width" -> o.width = Integer.parseInt(v);
          case "--batch" -> o.batch = Integer.parseInt(v);
          case "--steps" -> o.steps = Integer.parseInt(v);
          case "--warmup" -> o.warmup = Integer.parseInt(v);
          case "--threads" -> o.threads = Integer.parseInt(v);
          case "--classes" -> o.classes = Integer.parseInt(v);
          case "--stats-examples" -> o.statsExamples = Integer.parseInt(v);
          case "--input" -> o.input = v;
          case "--pooling" -> o.pooling = v;
          case "--pool-every" -> o.poolEvery = Integer.parseInt(v);
          case "--variants" -> o.defaultsOnly = switch (v) {
            case "defaults" -> true;
            case "all" -> false;
            default -> throw new IllegalArgumentException("--variants: all or defaults, got " + v);
          };
          case "--periods" -> o.periods = v;
          case "--json" -> o.json = Path.of(v);
          default -> throw HarnessSupport.unknown(a);
        }
      });
      if (!parsed) {
        return null;
      }
      if (o.depth < 1 || o.width < 1 || o.batch < 1 || o.steps < 1 || o.warmup < 0
          || o.threads < 0 || o.statsExamples < 0) {
        throw new IllegalArgumentException("sizes and --steps must be positive, --warmup, "
            + "--threads and --stats-examples >= 0");
      }
      return o;
    }
  }

  /** One variant: its name, K-FAC options (null: SGD) and the step kinds it needs. */
  static final class Variant {
    final String name;
    final KfacOptions kfac;
    final List<Kind> kinds = new ArrayList<>();
    final Map<Kind, List<Double>> ms = new LinkedHashMap<>();
    /** Process CPU time (all threads, TF's included) per step, ms. */
    final Map<Kind, List<Double>> cpu = new LinkedHashMap<>();
    TrainingGraph graph;
    double buildMs;

    Variant(String name, KfacOptions kfac) {
      this.name = name;
      this.kfac = kfac;
      if (kfac == null) {
        kinds.add(Kind.PLAIN);
      } else {
        kinds.add(Kind.INVERSE);
        if (kfac.inverseEvery() > kfac.curvatureEvery()) {
          kinds.add(Kind.STATS);
        }
        if (kfac.curvatureEvery() > 1) {
          kinds.add(Kind.PLAIN);
        }
      }
      for (Kind k : kinds) {
        ms.put(k, new ArrayList<>());
        cpu.put(k, new ArrayList<>());
      }
    }

    /** A global step of this kind (multiples of the inverse period are inverse steps). */
    long stepOf(Kind k, int round) {
      if (kfac == null) {
        return round;
      }
      long base = (long) (round + 1) * kfac.inverseEvery();
      return switch (k) {
        case INVERSE -> base;
        case STATS -> base + kfac.curvatureEvery();
        case PLAIN -> base + 1;
      };
    }

    double median(Kind k) {
      return HarnessSupport.median(ms.get(k));
    }

    /** The amortized mean step time over one inverse period. */
    double amortized() {
      return amortized(ms);
    }

    /** {@link #amortized()} of the process CPU times. */
    double amortizedCpu() {
      return amortized(cpu);
    }

    private double amortized(Map<Kind, List<Double>> times) {
      if (kfac == null) {
        return HarnessSupport.median(times.get(Kind.PLAIN));
      }
      int inv = kfac.inverseEvery();
      int stats = inv / kfac.curvatureEvery();
      double t = HarnessSupport.median(times.get(Kind.INVERSE));
      if (stats > 1) {
        t += (stats - 1) * HarnessSupport.median(times.get(Kind.STATS));
      }
      if (inv > stats) {
        t += (inv - stats) * HarnessSupport.median(times.get(Kind.PLAIN));
      }
      return t / inv;
    }

    String schedule() {
      return kfac == null ? "nesterov 0.9" : String.format(Locale.ROOT,
          "stats/%d inv/%d %s", kfac.curvatureEvery(), kfac.inverseEvery(),
          kfac.conv().name().toLowerCase(Locale.ROOT));
    }
  }

  public static void main(String[] args) throws IOException {
    Options o = HarnessSupport.parseOrExit(args, Options::parse);
    if (o == null) {
      System.out.println("usage: KfacStepTimeHarness [--depth 50] [--width 64] [--batch 128] "
          + "[--steps 5 (measured rounds)] [--warmup 1] [--threads 0 (TF decides)] "
          + "[--classes 10] [--input 28x28x1] [--stats-examples 0 (whole batch)] "
          + "[--pooling none] [--pool-every 4] [--variants all|defaults] [--periods C/I,...] "
          + "[--json FILE]");
      return;
    }
    PrintStream out = System.out;
    long start = System.nanoTime();
    ConfigProto config = DevicePlacement.config(false, o.threads, 0);
    HarnessSupport.printEnvironment(out);

    ArchitectureSpec spec = ArchitectureSpec.builder(Architecture.PLAIN_CNN, o.depth)
        .width(o.width).activation("leaky_relu").input(o.input).classes(o.classes)
        .pooling(o.pooling.equals("none") ? Pooling.NONE
            : Pooling.every(Pooling.Kind.parse(o.pooling), o.poolEvery))
        .shaped(Method.TAT).seed(0).build();
    BuiltModel built = ModelBuilder.build(spec);
    Model model = built.model();
    HarnessSupport.FixedBatch fixed = HarnessSupport.syntheticBatch(model, o.batch, o.classes);
    float[] x = fixed.x();
    float[] y = fixed.y();
    long[] xShape = fixed.shape();
    double lr = 1e-5;
    double mu = 0.9;

    KfacOptions recipe = KfacOptions.tatRecipe().withStatisticsExamples(o.statsExamples);
    List<Variant> variants = o.periods != null ? periodVariants(o.periods, o.statsExamples)
        : o.defaultsOnly ? defaultsVariants(o.statsExamples) : List.of(
        new Variant("SGD (Nesterov)", null),
        new Variant("K-FAC TAT recipe", recipe),
        new Variant("K-FAC recipe, conv reduce", recipe.withConv(ConvApproximation.REDUCE)),
        new Variant("K-FAC recipe, A from 3d rows", recipe.withPatchRowsPerDimension(3)),
        new Variant("K-FAC recipe, stats every 10", recipe.withPeriods(10, 50)),
        new Variant("K-FAC reduce, stats every 2",
            recipe.withConv(ConvApproximation.REDUCE).withPeriods(2, 50)),
        new Variant("K-FAC no amortization", recipe.withPeriods(1, 1)),
        new Variant("K-FAC defaults", o.statsExamples == 0 ? KfacOptions.defaults()
            : KfacOptions.defaults().withStatisticsExamples(o.statsExamples)));

    out.printf(Locale.ROOT, "network: %s; %,d parameters%n", spec.describe(),
        built.parameterCount());
    out.printf(Locale.ROOT, "run: batch %d, fixed synthetic batch, lr %.0e, momentum %.1f, "
            + "%d warm-up + %d measured rounds; a round = one step of every kind of every "
            + "variant, order rotating; intra-op threads %s; K-FAC statistics on %s%n", o.batch,
        lr, mu, o.warmup, o.steps,
        o.threads == 0 ? "TF default" : Integer.toString(o.threads),
        o.statsExamples == 0
            ? "the whole batch unless a variant names its own (the defaults: "
                + KfacOptions.DEFAULT_STATISTICS_EXAMPLES + " examples)"
            : o.statsExamples + " examples");
    try {
      for (Variant v : variants) {
        long t0 = System.nanoTime();
        TrainingSpec ts = TrainingSpec.defaults().withOptimizer(SgdOptimizer.Kind.NESTEROV);
        if (v.kfac != null) {
          ts = ts.withKfac(v.kfac);
        }
        v.graph = TrainingGraph.build(model, ts, config);
        v.buildMs = (System.nanoTime() - t0) / 1e6;
        out.printf(Locale.ROOT, "  built %-30s in %6.0f ms%n", v.name, v.buildMs);
      }
      // every (variant, kind) pair, rotated each round
      List<Object[]> jobs = new ArrayList<>();
      for (Variant v : variants) {
        for (Kind k : v.kinds) {
          jobs.add(new Object[] {v, k});
        }
      }
      for (int round = 0; round < o.warmup + o.steps; round++) {
        boolean keep = round >= o.warmup;
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  %s %d:",
            keep ? "round" : "warm-up", keep ? round - o.warmup : round));
        for (int j = 0; j < jobs.size(); j++) {
          Object[] job = jobs.get((j + round) % jobs.size());
          Variant v = (Variant) job[0];
          Kind k = (Kind) job[1];
          long c0 = processCpuNanos();
          long s0 = System.nanoTime();
          double[] la = v.graph.step(v.stepOf(k, round), x, xShape, y, lr, mu);
          double ms = (System.nanoTime() - s0) / 1e6;
          double cpuMs = (processCpuNanos() - c0) / 1e6;
          if (!Double.isFinite(la[0])) {
            throw new IllegalStateException(v.name + ": loss " + la[0]);
          }
          if (keep) {
            v.ms.get(k).add(ms);
            v.cpu.get(k).add(cpuMs);
          }
          line.append(String.format(Locale.ROOT, " %s/%s %.0f", shortName(v), k.name()
              .toLowerCase(Locale.ROOT), ms));
        }
        out.println(line.append(" ms"));
      }
    } finally {
      for (Variant v : variants) {
        if (v.graph != null) {
          v.graph.close();
        }
      }
    }

    double sgd = variants.get(0).amortized();
    double sgdCpu = variants.get(0).amortizedCpu();
    out.println();
    out.printf(Locale.ROOT, "Median step times (ms) over %d rounds; 'mean/step' = amortized "
        + "mean over one inverse period (t_inv + (I/C-1) t_stats + (I-I/C) t_plain) / I%n",
        o.steps);
    out.printf(Locale.ROOT, "  %-36s %-22s %9s %9s %9s %10s %8s %10s %8s%n", "variant",
        "schedule", "plain", "stats", "inverse", "mean/step", "vs SGD", "CPU/step", "vs SGD");
    List<Map<String, Object>> rows = new ArrayList<>();
    for (Variant v : variants) {
      double a = v.amortized();
      double c = v.amortizedCpu();
      out.printf(Locale.ROOT, "  %-36s %-22s %9s %9s %9s %10.1f %7.2fx %10.1f %7.2fx%n", v.name,
          v.schedule(), fmt(v, Kind.PLAIN), fmt(v, Kind.STATS), fmt(v, Kind.INVERSE), a, a / sgd,
          c, c / sgdCpu);
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("variant", v.name);
      row.put("schedule", v.schedule());
      row.put("plainMs", v.ms.get(Kind.PLAIN) == null ? null : v.median(Kind.PLAIN));
      row.put("statsMs", v.ms.get(Kind.STATS) == null ? null : v.median(Kind.STATS));
      row.put("inverseMs", v.ms.get(Kind.INVERSE) == null ? null : v.median(Kind.INVERSE));
      row.put("amortizedMs", a);
      row.put("ratioToSgd", a / sgd);
      row.put("amortizedCpuMs", c);
      row.put("cpuRatioToSgd", c / sgdCpu);
      row.put("graphBuildMs", v.buildMs);
      row.put("network", spec.describe());
      row.put("batch", o.batch);
      row.put("rounds", o.steps);
      row.put("statisticsExamples", o.statsExamples);
      rows.add(row);
    }
    if (!o.defaultsOnly && o.periods == null) {
      Variant rec = variants.get(1);
      Variant sampled = variants.get(3);
      out.printf(Locale.ROOT, "goal (issue 6): K-FAC with inverses every 50 under 1.5x SGD: "
        + "recipe with sampled A rows (dks train's default) %.2fx -> %s; recipe with every "
        + "row %.2fx%n", sampled.amortized() / sgd, sampled.amortized() / sgd < 1.5 ? "met"
        : "NOT met", rec.amortized() / sgd);
    }
    out.println("JSON " + new com.fasterxml.jackson.databind.ObjectMapper()
        .writeValueAsString(rows));
    HarnessSupport.finish(out, start, o.json, rows);
  }

  /**
   * SGD, the K-FAC defaults, the defaults before issue 16 (statistics at every step from the
   * whole batch) and, when {@code statsExamples > 0} differs from the defaults', the defaults with
   * statistics from that many examples: issue 16's comparison in one process.
   */
  private static List<Variant> defaultsVariants(int statsExamples) {
    List<Variant> v = new ArrayList<>(List.of(new Variant("SGD (Nesterov)", null),
        new Variant("K-FAC defaults", KfacOptions.defaults()),
        new Variant("K-FAC defaults, whole batch every step (before issue 16)",
            KfacOptions.defaults().withStatisticsExamples(0).withPeriods(1, 10))));
    if (statsExamples > 0 && statsExamples != KfacOptions.DEFAULT_STATISTICS_EXAMPLES) {
      v.add(new Variant("K-FAC defaults, statistics from " + statsExamples,
          KfacOptions.defaults().withStatisticsExamples(statsExamples)));
    }
    return v;
  }

  /**
   * SGD, then {@code KfacOptions.defaults()} with each statistics/inverse period pair of
   * {@code spec} ({@code "C/I,C/I"}), with statistics from the whole batch and, when {@code
   * statsExamples > 0}, from that many examples too: what amortizing the statistics costs per
   * step.
   */
  static List<Variant> periodVariants(String spec, int statsExamples) {
    List<Variant> v = new ArrayList<>(List.of(new Variant("SGD (Nesterov)", null)));
    for (String pair : spec.split(",")) {
      String[] ci = pair.trim().split("/");
      if (ci.length != 2) {
        throw new IllegalArgumentException("--periods: C/I pairs separated by commas, got " + spec);
      }
      int c;
      int i;
      try {
        c = Integer.parseInt(ci[0].trim());
        i = Integer.parseInt(ci[1].trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--periods: C/I pairs of whole numbers, got " + spec);
      }
      KfacOptions k = KfacOptions.defaults().withStatisticsExamples(0).withPeriods(c, i);
      String name = "K-FAC defaults, stats/" + c + " inv/" + i;
      v.add(new Variant(name + ", whole batch", k));
      if (statsExamples > 0) {
        v.add(new Variant(name + ", from " + statsExamples,
            k.withStatisticsExamples(statsExamples)));
      }
    }
    return v;
  }

  /** CPU time of the whole process (every thread, TensorFlow's included), ns. */
  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
        .getOperatingSystemMXBean()).getProcessCpuTime();
  }

  private static String fmt(Variant v, Kind k) {
    return v.ms.containsKey(k) ? String.format(Locale.ROOT, "%.1f", v.median(k)) : "-";
  }

  private static String shortName(Variant v) {
    if (v.kfac == null) {
      return "sgd";
    }
    if (v.name.startsWith("K-FAC defaults")) {
      KfacOptions d = KfacOptions.defaults();
      String periods = v.kfac.curvatureEvery() == d.curvatureEvery()
          && v.kfac.inverseEvery() == d.inverseEvery() ? ""
          : "-" + v.kfac.curvatureEvery() + "/" + v.kfac.inverseEvery();
      return "defaults" + periods + (v.kfac.statisticsExamples() != d.statisticsExamples()
          ? "-n" + v.kfac.statisticsExamples() : "");
    }
    if (v.kfac.inverseEvery() == 1) {
      return "noamort";
    }
    if (v.kfac.conv() == ConvApproximation.REDUCE) {
      return "reduce";
    }
    if (v.kfac.patchRowsPerDimension() > 0) {
      return "sampled";
    }
    return v.kfac.curvatureEvery() > 1 ? "stats10" : "recipe";
  }
}
