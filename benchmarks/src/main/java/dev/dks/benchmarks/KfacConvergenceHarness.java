package dev.dks.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.BuiltModel;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.builder.Pooling;
import dev.dks.savedmodels.assets.SharedAssets;
import dev.dks.solver.solve.Method;
import dev.dks.trainers.data.Batch;
import dev.dks.trainers.data.BatchIterator;
import dev.dks.trainers.data.DataSets;
import dev.dks.trainers.data.Dataset;
import dev.dks.trainers.device.DevicePlacement;
import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.graph.TrainingSpec;
import dev.dks.trainers.kfac.ConvApproximation;
import dev.dks.trainers.kfac.DampingAdaptation;
import dev.dks.trainers.kfac.FisherEstimation;
import dev.dks.trainers.kfac.KfacOptions;
import dev.dks.trainers.loop.ComparisonPlot;
import dev.dks.trainers.loop.EvaluationListener;
import dev.dks.trainers.loop.EvaluationResult;
import dev.dks.trainers.optim.LearningRateSchedule;
import dev.dks.trainers.optim.OptimizerDefaults;
import dev.dks.trainers.optim.SgdOptimizer;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import dev.dks.rewriter.model.Model;
import org.tensorflow.proto.ConfigProto;

/**
 * Issue 6's headline experiment, scaled to a 2-core machine: on Fashion-MNIST (standardized by
 * the training part's statistics, label smoothing 0.1, the same shuffled batches for every run)
 *
 * <ul>
 *   <li>{@code kfac}: a plain CNN (no skips, no normalization), TAT-shaped leaky ReLU, trained
 *       with K-FAC (recipe with the damping, inverse period, conv approximation and peak lr of
 *       the short tuning pass: see the script);
 *   <li>{@code sgd}: the same network with SGD, Nesterov momentum 0.9;
 *   <li>{@code resnet}: a ResNet v2 with batch normalization, unshaped ReLU, same base width,
 *       SGD Nesterov 0.9;
 *   <li>{@code standard}: the plain network unshaped (ReLU, the builder's default init), SGD
 *       Nesterov 0.9.
 * </ul>
 *
 * <p>All runs take the same number of steps with a cosine schedule after a linear warm-up (10% of
 * the steps) and momentum 0.9. They run in one process, <b>interleaved step by step</b> (one step
 * of every run per round, order rotating), so load on the machine slows them alike; each run's
 * wall time is the sum of its own step times (plus, for K-FAC, its burn-in), evaluations
 * excluded. Every {@code --eval-every} steps the runs are evaluated on the first {@code
 * --eval-examples} test images, at the end on the whole test part.
 *
 * <p>A run is {@code name[:key=value,...]}; the name gives the preset above and the keys override
 * it: {@code arch=plain|plain-resnet|resnet} (plain-resnet: the ResNet's layers without skips and
 * normalization, TAT's LReLUNet), {@code init=tat|standard}, {@code opt=sgd|kfac}, {@code lr},
 * {@code damping}, {@code conv=expand|reduce}, {@code stats} (statistics period), {@code inv}
 * (inverse period), {@code burnin}, {@code nc} (norm constraint), {@code statsex} (statistics
 * examples), {@code dense} (statistics at every step before this one), {@code steps} (this
 * run's own length and schedule span instead of {@code --steps}: a run whose step is cheaper
 * can take more steps in the same training time; the process runs to the longest), {@code rows}
 * (KFC-expand A from this many sampled patch rows per dimension), {@code
 * est} (Fisher estimation: sampled, curvature_prop, empirical, exact), {@code label} (the name
 * in tables), and for {@code kfac-default}: {@code ema} (curvature EMA decay), {@code warmup}
 * (warm-up fraction of the steps), {@code adapt} (Levenberg-Marquardt damping adaptation every
 * this many steps, decay 0.9, bounds [dmin, 1000]), {@code dsched=true} (after the warm-up the
 * damping follows the learning rate, {@code max(dmin, damping lr / peak lr)}) and {@code dmin}
 * (default 1e-3). Any run can be a <b>branch</b>: {@code branch=S} keeps it idle until step S,
 * then gives it the state of its parent ({@code of=LABEL}, by default the first run of the same
 * name without a branch: model variables and optimizer slots, K-FAC's factors, inverses,
 * velocities and damping included; {@code damping=} given on the branch is set after the copy)
 * and a copy of the parent's record, so that a setting that matters only late (the damping,
 * the EMA, the statistics period, a learning rate) is tested on the exact state of step S for
 * the cost of the steps after it. The preset {@code kfac-default} is what {@code dks train
 * --optimizer kfac} does with no other flag, on the plain ResNet layout: {@code
 * KfacOptions.defaults()} and {@code OptimizerDefaults.kfac()}'s peak learning rate and warm-up
 * (keys given still override). A run that produces a non-finite loss, or whose K-FAC factors
 * cannot be inverted, is stopped and reported as diverged.
 *
 * <p>Output: a table (final train loss = mean of the last 20 steps' batch losses; test accuracy
 * on all 10,000; steps/s; the smoothed train loss of every run at the wall time at which the
 * fastest run finished), one line {@code JSON {...}}, and in {@code --out}: {@code steps.csv}
 * (run, step, loss, accuracy, lr, step ms, wall s), {@code evals.jsonl}, {@code summary.json}
 * and {@code loss.png} (loss against step and against wall time, 10-step moving averages);
 * {@code steps.csv} is also rewritten at every checkpoint, where a line gives each run's median
 * step time since the previous checkpoint and its ratio to the reference run's.
 * Every run also records its process CPU time (interleaved, so each step's CPU is its own).
 *
 * <p><b>Time to accuracy</b> (issue 16): when a run is the {@code --reference} (default the
 * {@code resnet} run), its test accuracy at {@code --target-step} (0: its last checkpoint) is the
 * target, and {@link TimeToAccuracy} reports when every run first reached it, in training wall
 * and CPU seconds (evaluation excluded): {@code time-to-accuracy.md}, {@code checkpoints.csv},
 * {@code accuracy.png}.
 *
 * <p>Usage: {@code java -cp benchmarks.jar dev.dks.benchmarks.KfacConvergenceHarness [--runs
 * "kfac;sgd;resnet;standard"] [--steps 400] [--batch 128] [--width 16] [--depth 50]
 * [--resnet-depth 50] [--pool-every 4] [--eval-every 100] [--eval-examples 2000]
 * [--label-smoothing 0.1] [--threads 0] [--out benchmarks/target/kfac-convergence]}.
 */
public final class KfacConvergenceHarness {
  private KfacConvergenceHarness() {}

  static final class Options {
    String runs = "kfac;sgd;resnet;standard";
    int steps = 400;
    int batch = 128;
    int width = 16;
    int depth = 50;
    int resnetDepth = 50;
    int poolEvery = 4;
    int evalEvery = 100;
    int evalExamples = 2000;
    double labelSmoothing = 0.1;
    int threads = 0;
    String reference = "resnet";
    int targetStep = 0;
    Path out = Path.of("benchmarks/target/kfac-convergence");

    static Options parse(String[] args) {
      Options o = new Options();
      boolean parsed = HarnessSupport.parsePairs(args, (a, v) -> {
        switch (a) {
          case "--runs" -> o.runs = v;
          case "--steps" -> o.steps = Integer.parseInt(v);
          case "--batch" -> o.batch = Integer.parseInt(v);
          case "--width" -> o.width = Integer.parseInt(v);
          case "--depth" -> o.depth = Integer.parseInt(v);
          case "--resnet-depth" -> o.resnetDepth = Integer.parseInt(v);
          case "--pool-every" -> o.poolEvery = Integer.parseInt(v);
          case "--eval-every" -> o.evalEvery = Integer.parseInt(v);
          case "--eval-examples" -> o.evalExamples = Integer.parseInt(v);
          case "--label-smoothing" -> o.labelSmoothing = Double.parseDouble(v);
          case "--threads" -> o.threads = Integer.parseInt(v);
          case "--out" -> o.out = Path.of(v);
          case "--reference" -> o.reference = v;
          case "--target-step" -> o.targetStep = Integer.parseInt(v);
          default -> throw HarnessSupport.unknown(a);
        }
      });
      if (!parsed) {
        return null;
      }
      if (o.steps < 10 || o.batch < 1 || o.width < 1 || o.evalEvery < 0 || o.poolEvery < 0
          || o.evalExamples < 1) {
        throw new IllegalArgumentException("need --steps >= 10, positive sizes, --eval-every "
            + "and --pool-every >= 0 (0: off)");
      }
      return o;
    }
  }

  /** One training run: its settings, graph and record. */
  static final class Run {
    String name;
    String label;
    String arch = "plain";
    String init = "tat";
    String opt = "sgd";
    double lr = 0.01;
    double damping = 1e-2;
    String conv = "expand";
    int stats = 1;
    int inv = 10;
    int burnIn = 5;
    double normConstraint = 1e-3;
    int statsExamples = 0;
    int denseStats = 0;
    double patchRows = 0;
    String estimation = "sampled";
    double ema = Double.NaN;
    /** LM damping adaptation every this many steps (0: fixed damping). */
    int adapt = 0;
    /** Lower bound of the adapted or scheduled damping. */
    double dampingMin = 1e-3;
    /** Damping follows the learning rate after the warm-up: max(dmin, d lr/peak). */
    boolean dampingSchedule;
    long warmupSteps;
    /** K-FAC from {@code KfacOptions.defaults()} (only the keys given change it). */
    boolean kfacDefaults;
    /** This run's own length and schedule span ({@code steps=}; 0: {@code --steps}). */
    int ownSteps;
    /** A branch: idle until this step, then continues from its parent's state (0: none). */
    int branchAt;
    /** The parent's label or name ({@code of=}); null: the first unbranched run of this name. */
    String parentName;
    Run parent;
    /** Warm-up as a fraction of the steps (NaN: the harness's 10%). */
    double warmupFraction = Double.NaN;
    final java.util.Set<String> given = new java.util.HashSet<>();

    TrainingGraph graph;
    BuiltModel model;
    LearningRateSchedule schedule;
    final List<double[]> steps = new ArrayList<>(); // step, loss, acc, lr, ms, wall s
    final List<EvaluationResult> evals = new ArrayList<>();
    double wall;
    double cpu;
    final List<TimeToAccuracy.Checkpoint> checkpoints = new ArrayList<>();
    double burnInSeconds;
    String diverged;
    EvaluationResult finalEval;

    static Run parse(String spec) {
      Run r = new Run();
      String[] parts = spec.trim().split(":", 2);
      r.name = parts[0].trim();
      switch (r.name) {
        case "kfac" -> {
          r.opt = "kfac";
          r.lr = 3e-4;
        }
        case "sgd" -> r.lr = 0.01;
        case "resnet" -> {
          r.arch = "resnet";
          r.init = "standard";
          r.lr = 0.1;
        }
        case "standard" -> r.init = "standard";
        case "kfac-default" -> {
          // what dks train --optimizer kfac does with no other flag, on the plain ResNet layout
          r.opt = "kfac";
          r.arch = "plain-resnet";
          r.kfacDefaults = true;
          OptimizerDefaults d = OptimizerDefaults.kfac();
          r.lr = d.lr();
          r.warmupFraction = d.warmupFraction();
        }
        default -> throw new IllegalArgumentException("unknown run '" + r.name
            + "': kfac, kfac-default, sgd, resnet or standard");
      }
      if (parts.length > 1) {
        for (String kv : parts[1].split(",")) {
          String[] p = kv.split("=", 2);
          if (p.length != 2) {
            throw new IllegalArgumentException("expected key=value in '" + spec + "'");
          }
          String v = p[1].trim();
          r.given.add(p[0].trim());
          switch (p[0].trim()) {
            case "arch" -> r.arch = v;
            case "init" -> r.init = v;
            case "opt" -> r.opt = v;
            case "lr" -> r.lr = Double.parseDouble(v);
            case "damping" -> r.damping = Double.parseDouble(v);
            case "conv" -> r.conv = v;
            case "stats" -> r.stats = Integer.parseInt(v);
            case "inv" -> r.inv = Integer.parseInt(v);
            case "burnin" -> r.burnIn = Integer.parseInt(v);
            case "nc" -> r.normConstraint = Double.parseDouble(v);
            case "statsex" -> r.statsExamples = Integer.parseInt(v);
            case "dense" -> r.denseStats = Integer.parseInt(v);
            case "rows" -> r.patchRows = Double.parseDouble(v);
            case "est" -> r.estimation = v;
            case "label" -> r.label = v;
            case "ema" -> r.ema = Double.parseDouble(v);
            case "warmup" -> r.warmupFraction = Double.parseDouble(v);
            case "adapt" -> r.adapt = Integer.parseInt(v);
            case "dmin" -> r.dampingMin = Double.parseDouble(v);
            case "dsched" -> r.dampingSchedule = Boolean.parseBoolean(v);
            case "branch" -> r.branchAt = Integer.parseInt(v);
            case "steps" -> r.ownSteps = Integer.parseInt(v);
            case "of" -> r.parentName = v;
            default -> throw new IllegalArgumentException("unknown key '" + p[0] + "' in '"
                + spec + "'");
          }
        }
      }
      if (r.label == null) {
        String plain = r.arch.equals("plain-resnet") ? " plain-ResNet" : " plain";
        String net = r.arch.equals("resnet") ? "BN-ResNet" : (r.init.equals("tat") ? "TAT"
            : "std-init") + plain;
        r.label = r.kfacDefaults ? net + " K-FAC defaults" : r.opt.equals("kfac")
            ? String.format(Locale.ROOT, "%s K-FAC d%.0e %s lr%.0e "
            + "inv%d", net, r.damping, r.conv, r.lr, r.inv) : String.format(Locale.ROOT,
            "%s SGD lr %.3g", net, r.lr);
      }
      return r;
    }

    KfacOptions kfacOptions() {
      if (kfacDefaults) {
        KfacOptions k = KfacOptions.defaults();
        if (given.contains("damping")) {
          k = k.withDamping(damping);
        }
        if (given.contains("stats") || given.contains("inv")) {
          k = k.withPeriods(given.contains("stats") ? stats : k.curvatureEvery(),
              given.contains("inv") ? inv : k.inverseEvery());
        }
        if (given.contains("conv")) {
          k = k.withConv(ConvApproximation.valueOf(conv.toUpperCase(Locale.ROOT)));
        }
        if (given.contains("statsex")) {
          k = k.withStatisticsExamples(statsExamples);
        }
        if (given.contains("dense")) {
          k = k.withDenseStatisticsSteps(denseStats);
        }
        if (given.contains("ema")) {
          k = k.withCurvatureEma(ema);
        }
        if (adapt > 0) {
          k = k.withAdaptation(new DampingAdaptation(adapt, 0.9, dampingMin, 1000));
        }
        return k;
      }
      for (String key : List.of("ema", "adapt", "dmin", "dsched")) {
        if (given.contains(key)) {
          throw new IllegalArgumentException("key '" + key + "' applies to kfac-default runs only"
              + " (the tat recipe keeps its published settings)");
        }
      }
      return KfacOptions.tatRecipe().withDamping(damping).withPeriods(stats, inv)
          .withConv(ConvApproximation.valueOf(conv.toUpperCase(Locale.ROOT)))
          .withBurnIn(burnIn).withNormConstraint(normConstraint)
          .withStatisticsExamples(statsExamples).withPatchRowsPerDimension(patchRows)
          .withEstimation(FisherEstimation.valueOf(estimation.toUpperCase(Locale.ROOT)))
          .withDenseStatisticsSteps(denseStats);
    }

    String describe() {
      return settings() + (parent == null ? "" : String.format(Locale.ROOT,
          "; branch of '%s' from step %d (its state and record up to there)", parent.label,
          branchAt));
    }

    private String settings() {
      if (kfacDefaults) {
        KfacOptions k = kfacOptions();
        return String.format(Locale.ROOT, "%s: %s; K-FAC defaults (damping %.0e, conv %s, "
            + "stats/%d%s, inverses/%d, burn-in %d, norm constraint %.0e), peak lr %.3g, warm-up "
            + "%.0f%%", label, model.spec().describe(), k.damping(),
            k.conv().name().toLowerCase(Locale.ROOT), k.curvatureEvery(),
            k.denseStatisticsSteps() > 0 ? " (every step before " + k.denseStatisticsSteps()
            + ")" : "", k.inverseEvery(),
            k.burnIn(), k.normConstraint(), lr, 100 * warmupFraction);
      }
      String o = opt.equals("kfac") ? String.format(Locale.ROOT, "K-FAC damping %.0e, conv %s, "
              + "stats/%d, inverses/%d, burn-in %d, norm constraint %.0e%s", damping, conv, stats,
          inv, burnIn, normConstraint, statsExamples > 0 ? ", stats on " + statsExamples
              + " examples" : "") + (patchRows > 0 ? String.format(Locale.ROOT, ", A from %.3g "
              + "x d_A sampled patch rows", patchRows) : "") : "SGD Nesterov 0.9";
      return String.format(Locale.ROOT, "%s: %s; %s, peak lr %.3g", label,
          model.spec().describe(), o, lr);
    }

    double meanLossOfLast(int n) {
      int from = Math.max(0, steps.size() - n);
      return steps.subList(from, steps.size()).stream().mapToDouble(s -> s[1]).average()
          .orElse(Double.NaN);
    }

    /** The mean batch loss of the 20 steps ending at the last step finished by {@code t}. */
    double smoothedLossAtWall(double t) {
      int last = -1;
      for (int i = 0; i < steps.size(); i++) {
        if (steps.get(i)[5] <= t) {
          last = i;
        }
      }
      if (last < 0) {
        return Double.NaN;
      }
      double s = 0;
      int n = 0;
      for (int i = Math.max(0, last - 19); i <= last; i++) {
        s += steps.get(i)[1];
        n++;
      }
      return s / n;
    }
  }

  public static void main(String[] args) throws IOException {
    Options o = HarnessSupport.parseOrExit(args, Options::parse);
    if (o != null) {
      run(o, System.out);
    } else {
      System.out.println("usage: KfacConvergenceHarness [--runs \"kfac;sgd;resnet;standard\" "
          + "(name[:key=value,...]; names kfac kfac-default sgd resnet standard; keys arch (plain, plain-resnet, resnet) init opt lr damping "
          + "conv stats inv burnin nc statsex rows est label steps branch of; kfac-default also ema warmup adapt dmin dsched)] [--steps 400] [--batch 128] "
          + "[--width 16] [--depth 50] "
          + "[--resnet-depth 50] [--pool-every 4 (plain nets: stride-2 conv every k layers; 0 "
          + "none)] [--eval-every 100 (0: end only)] [--eval-examples 2000] "
          + "[--label-smoothing 0.1] [--threads 0] [--reference resnet] [--target-step 0 (last "
          + "checkpoint)] [--out DIR]; a run key branch=S (with of=LABEL, default the first "
          + "unbranched run of the same name) starts that run at step S from its parent's state");
    }
  }

  /**
   * Trains the runs of {@code o} as the class comment says, prints to {@code out} and writes the
   * outputs; returns the runs (graphs closed, records kept).
   */
  static List<Run> run(Options o, PrintStream out) throws IOException {
    long start = System.nanoTime();
    ConfigProto config = DevicePlacement.config(false, o.threads, 0);
    HarnessSupport.printEnvironment(out);

    Path cache = SharedAssets.dataCacheDir();
    Dataset trainRaw = DataSets.load("fashion-mnist", cache, DataSets.Part.TRAIN);
    Dataset testRaw = DataSets.load("fashion-mnist", cache, DataSets.Part.TEST);
    Dataset.ChannelStats cs = trainRaw.channelStats();
    Dataset train = trainRaw.standardized(cs);
    Dataset test = testRaw.standardized(cs);
    int[] head = new int[Math.min(o.evalExamples, test.size())];
    Arrays.setAll(head, i -> i);
    Dataset testHead = test.subset(head, "fashion-mnist-test-head");
    BatchIterator batches = BatchIterator.builder(train).batchSize(o.batch).seed(1)
        .dropLast(true).labelSmoothing((float) o.labelSmoothing).build();
    long warmup = Math.max(1, o.steps / 10);
    String input = train.h() + "x" + train.w() + "x" + train.c();

    List<Run> runs = new ArrayList<>();
    for (String s : o.runs.split(";")) {
      if (!s.isBlank()) {
        runs.add(Run.parse(s));
      }
    }
    int maxSteps = o.steps;
    for (Run r : runs) {
      if (r.ownSteps == 0) {
        r.ownSteps = o.steps;
      } else if (r.ownSteps < 10) {
        throw new IllegalArgumentException("run '" + r.label + "': steps=" + r.ownSteps
            + " must be >= 10");
      }
      maxSteps = Math.max(maxSteps, r.ownSteps);
    }
    resolveBranches(runs, maxSteps);
    out.printf(Locale.ROOT, "data: %s train %d / test %d images, standardized, label smoothing "
            + "%.2f, batch %d, same batch order (seed 1) for every run%n", train.name(),
        train.size(), test.size(), o.labelSmoothing, o.batch);
    out.printf(Locale.ROOT, "schedule: %d steps, cosine after %d linear warm-up steps, momentum "
            + "0.9; runs interleaved step by step; eval every %d steps on %d test images, at "
            + "the end on all %d%n", o.steps, warmup, o.evalEvery, testHead.size(), test.size());
    Files.createDirectories(o.out);
    try {
      for (Run r : runs) {
        ArchitectureSpec.Builder b;
        if (r.arch.equals("resnet")) {
          b = ArchitectureSpec.builder(Architecture.RESNET, o.resnetDepth).width(o.width)
              .resnetV2(true).batchNorm(true).activation("relu");
        } else if (r.arch.equals("plain-resnet")) {
          // the BN-ResNet's layers without its skips and normalization (TAT's LReLUNet)
          b = ArchitectureSpec.builder(Architecture.RESNET, o.resnetDepth).width(o.width)
              .resnetV2(true).shortcutWeight(0);
        } else if (r.arch.equals("plain")) {
          b = ArchitectureSpec.builder(Architecture.PLAIN_CNN, o.depth).width(o.width)
              .pooling(o.poolEvery == 0 ? Pooling.NONE
                  : Pooling.every(Pooling.Kind.STRIDED_CONV, o.poolEvery));
        } else {
          throw new IllegalArgumentException("unknown arch '" + r.arch + "' in run " + r.label
              + ": plain, plain-resnet or resnet");
        }
        if (!r.arch.equals("resnet")) {
          if (r.init.equals("tat")) {
            b.activation("leaky_relu").shaped(Method.TAT);
          } else {
            b.activation("relu");
          }
        }
        r.model = ModelBuilder.build(b.input(input).classes(train.classes()).seed(0).build());
        Model model = r.model.model();
        TrainingSpec ts = TrainingSpec.defaults().withOptimizer(SgdOptimizer.Kind.NESTEROV);
        // a BN net trains with batch statistics and moving averages (TrainingSpec's default)
        if (r.opt.equals("kfac")) {
          ts = ts.withKfac(r.kfacOptions());
        }
        r.graph = TrainingGraph.build(model, ts, config);
        long runWarmup = Double.isNaN(r.warmupFraction)
            ? (r.ownSteps == o.steps ? warmup : Math.max(1, r.ownSteps / 10))
            : Math.max(1, Math.round(r.warmupFraction * r.ownSteps));
        r.schedule = LearningRateSchedule.cosineWithWarmup(r.lr, runWarmup, r.ownSteps);
        r.warmupSteps = runWarmup;
        out.printf(Locale.ROOT, "  %s (%,d parameters)%n", r.describe(),
            r.model.parameterCount());
      }
      // K-FAC burn-in with the first batches, as the Trainer does; counted in the run's wall time
      for (Run r : runs) {
        if (r.graph.burnInBatches() > 0 && r.parent == null) {
          List<Batch> bs = new ArrayList<>();
          for (int i = 0; i < r.graph.burnInBatches(); i++) {
            bs.add(batches.batchAt(i));
          }
          long c0 = KfacStepProfile.processCpuNanos();
          long t0 = System.nanoTime();
          r.graph.burnIn(bs);
          r.burnInSeconds = (System.nanoTime() - t0) / 1e9;
          r.wall = r.burnInSeconds;
          r.cpu = (KfacStepProfile.processCpuNanos() - c0) / 1e9;
        }
      }
      int lastCheckpoint = 0;
      for (int s = 0; s < maxSteps; s++) {
        Batch bt = batches.batchAt(s);
        long[] shape = {bt.size(), bt.h(), bt.w(), bt.c()};
        for (Run r : runs) {
          if (r.parent != null && r.branchAt == s) {
            branch(r);
          }
        }
        for (int j = 0; j < runs.size(); j++) {
          Run r = runs.get((j + s) % runs.size());
          if (r.diverged != null || s < r.branchAt || s >= r.ownSteps) {
            continue;
          }
          double lr = r.schedule.at(s);
          if (r.dampingSchedule && r.opt.equals("kfac") && s >= r.warmupSteps) {
            // damping proportional to the learning rate after the warm-up, floored at dmin
            double d0 = r.kfacOptions().damping();
            r.graph.setKfacDamping(Math.max(r.dampingMin, d0 * Math.min(1, lr / r.lr)));
          }
          long c0 = KfacStepProfile.processCpuNanos();
          long t0 = System.nanoTime();
          double[] la;
          try {
            la = r.graph.step(s, bt.images(), shape, bt.oneHot(), lr, 0.9);
          } catch (IllegalStateException e) {
            r.diverged = "step " + s + ": " + HarnessSupport.firstLine(e.getMessage(), 120);
            continue;
          }
          double ms = (System.nanoTime() - t0) / 1e6;
          r.wall += ms / 1e3;
          r.cpu += (KfacStepProfile.processCpuNanos() - c0) / 1e9;
          r.steps.add(new double[] {s, la[0], la[1], lr, ms, r.wall});
          if (!Double.isFinite(la[0]) || la[0] > 1e3) {
            r.diverged = "step " + s + ": loss " + la[0];
          }
        }
        int done = s + 1;
        final int finished = done;
        if ((o.evalEvery > 0 && done % o.evalEvery == 0)
            || runs.stream().anyMatch(r -> r.ownSteps == finished)) {
          StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  step %4d:",
              done));
          for (Run r : runs) {
            if (done <= r.branchAt || done > r.ownSteps) {
              continue; // a branch not yet started (its parent's checkpoints become its own)
              // or a run that has finished its steps
            }
            if (r.diverged != null) {
              line.append(String.format(Locale.ROOT, " | %s DIVERGED (%s)", r.label,
                  r.diverged));
              continue;
            }
            EvaluationResult e = EvaluationListener.evaluate(r.graph, testHead, done, 1000);
            r.evals.add(e);
            r.checkpoints.add(new TimeToAccuracy.Checkpoint(done, r.wall, r.cpu, e.accuracy(),
                e.examples()));
            line.append(String.format(Locale.ROOT, " | %s loss %.3f, test-head acc %.3f, %.1f s",
                r.label, r.meanLossOfLast(20), e.accuracy(), r.wall));
          }
          out.println(line);
          out.println(stepTimeWindow(runs, lastCheckpoint, done, o.reference));
          lastCheckpoint = done;
          writeSteps(o, runs);
        }
      }
      for (Run r : runs) {
        if (r.diverged == null) {
          r.finalEval = EvaluationListener.evaluate(r.graph, test, r.ownSteps, 1000);
        }
      }
    } finally {
      for (Run r : runs) {
        if (r.graph != null) {
          r.graph.close();
        }
      }
    }

    // equal wall time: where the fastest (non-diverged) run finished
    double tEq = runs.stream().filter(r -> r.diverged == null).mapToDouble(r -> r.wall).min()
        .orElse(Double.NaN);
    out.println();
    out.printf(Locale.ROOT, "%d steps, batch %d; train loss = mean batch loss of the last 20 "
        + "steps (label-smoothed targets); test accuracy on all %d; steps/s over all steps (first "
        + "runs of each session included), step ms = median; wall s includes K-FAC's burn-in; "
        + "loss@%.0fs = that mean at the wall time where the fastest run finished%n", o.steps, o.batch, test.size(), tEq);
    out.printf(Locale.ROOT, "  %-44s %10s %9s %9s %8s %8s %9s %10s%n", "run", "train loss",
        "test acc", "test loss", "steps/s", "step ms", "wall s", String.format(Locale.ROOT, "loss@%.0fs",
            tEq));
    List<Map<String, Object>> rows = new ArrayList<>();
    for (Run r : runs) {
      double stepSec = r.steps.stream().mapToDouble(x -> x[4]).sum() / 1e3;
      double sps = r.steps.size() / stepSec;
      double medianMs = HarnessSupport.median(r.steps.stream().map(x -> x[4]).toList());
      out.printf(Locale.ROOT, "  %-44s %10.4f %9s %9s %8.2f %8.1f %9.1f %10s%s%n", r.label,
          r.meanLossOfLast(20), r.finalEval == null ? "-" : String.format(Locale.ROOT, "%.4f",
              r.finalEval.accuracy()), r.finalEval == null ? "-" : String.format(Locale.ROOT,
              "%.4f", r.finalEval.loss()), sps, medianMs, r.wall, Double.isNaN(r.smoothedLossAtWall(tEq)) ? "-"
              : String.format(Locale.ROOT, "%.4f", r.smoothedLossAtWall(tEq)),
          r.diverged == null ? "" : "  DIVERGED " + r.diverged);
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("run", r.label);
      row.put("describe", r.describe());
      row.put("steps", r.steps.size());
      row.put("trainLossLast20", r.meanLossOfLast(20));
      row.put("testAccuracy", r.finalEval == null ? null : r.finalEval.accuracy());
      row.put("testLoss", r.finalEval == null ? null : r.finalEval.loss());
      row.put("stepsPerSecond", sps);
      row.put("medianStepMs", medianMs);
      row.put("wallSeconds", r.wall);
      row.put("cpuSeconds", r.cpu);
      row.put("burnInSeconds", r.burnInSeconds);
      row.put("lossAtEqualWall", r.smoothedLossAtWall(tEq));
      row.put("equalWallSeconds", tEq);
      row.put("diverged", r.diverged);
      row.put("batch", o.batch);
      rows.add(row);
    }
    writeOutputs(o, runs);
    timeToAccuracy(out, o, runs, rows);
    out.println("JSON " + new ObjectMapper().writeValueAsString(rows));
    out.printf(Locale.ROOT, "plot: %s; per-step metrics: %s%n", o.out.resolve("loss.png"),
        o.out.resolve("steps.csv"));
    HarnessSupport.finish(out, start, o.out.resolve("summary.json"), rows);
    return runs;
  }

  /**
   * Finds every branch's parent: the run named by {@code of=} (label or name), else the first
   * unbranched run of the branch's name. A parent must be unbranched, of the same network and
   * optimizer kind (the state is copied by variable name), and the branch step inside the run.
   */
  static void resolveBranches(List<Run> runs, int steps) {
    for (Run r : runs) {
      if (r.branchAt == 0) {
        if (r.parentName != null) {
          throw new IllegalArgumentException("run '" + r.label + "': of= needs branch=S");
        }
        continue;
      }
      if (r.branchAt < 0 || r.branchAt >= steps) {
        throw new IllegalArgumentException("run '" + r.label + "': branch=" + r.branchAt
            + " must be in [1, " + (steps - 1) + "]");
      }
      for (Run p : runs) {
        if (p != r && p.branchAt == 0 && (r.parentName == null ? p.name.equals(r.name)
            : p.label.equals(r.parentName) || p.name.equals(r.parentName))) {
          r.parent = p;
          break;
        }
      }
      if (r.parent == null) {
        throw new IllegalArgumentException("run '" + r.label + "' branches at step " + r.branchAt
            + " but no unbranched run " + (r.parentName == null ? "named '" + r.name + "'"
            : "'" + r.parentName + "'") + " is in --runs to branch from");
      }
      if (!r.parent.arch.equals(r.arch) || !r.parent.opt.equals(r.opt)
          || !r.parent.init.equals(r.init)) {
        throw new IllegalArgumentException("run '" + r.label + "' branches from '"
            + r.parent.label + "', a different network or optimizer (arch, init and opt must "
            + "match: the state is copied by variable name)");
      }
    }
  }

  /**
   * Starts branch {@code r} at its step: its graph takes the parent's model variables and
   * optimizer slots (K-FAC's factors, inverses, velocities and damping), then its own damping
   * when {@code damping=} was given; its record (steps, checkpoints, wall and CPU time) starts
   * as a copy of the parent's. A diverged parent stops the branch.
   */
  static void branch(Run r) {
    Run p = r.parent;
    if (p.diverged != null) {
      r.diverged = "parent '" + p.label + "' diverged before step " + r.branchAt;
      return;
    }
    r.graph.assign(p.graph.variables());
    r.graph.assign(p.graph.slots());
    if (r.opt.equals("kfac") && r.given.contains("damping")) {
      r.graph.setKfacDamping(r.kfacOptions().damping());
    }
    r.steps.addAll(p.steps);
    r.evals.addAll(p.evals);
    r.checkpoints.addAll(p.checkpoints);
    r.wall = p.wall;
    r.cpu = p.cpu;
    r.burnInSeconds = p.burnInSeconds;
  }

  /**
   * One line: each run's median step time over steps {@code (from, to]} and its ratio to the
   * reference run's (runs interleaved step by step, so the ratio is what load leaves alone).
   */
  static String stepTimeWindow(List<Run> runs, int from, int to, String reference) {
    Run ref = runs.stream().filter(r -> r.name.equals(reference) || r.label.equals(reference))
        .findFirst().orElse(null);
    double refMs = ref == null ? Double.NaN : windowMedianMs(ref, from, to);
    StringBuilder b = new StringBuilder(String.format(Locale.ROOT,
        "    median step ms, steps %d-%d:", from + 1, to));
    for (Run r : runs) {
      double ms = windowMedianMs(r, from, to);
      if (Double.isNaN(ms)) {
        continue;
      }
      b.append(String.format(Locale.ROOT, " | %s %.0f", r.label, ms));
      if (!Double.isNaN(refMs) && r != ref) {
        b.append(String.format(Locale.ROOT, " (%.2fx %s)", ms / refMs, ref.label));
      }
    }
    return b.toString();
  }

  /** Median ms of the run's own steps with 0-based index in {@code [from, to)}; NaN if none. */
  private static double windowMedianMs(Run r, int from, int to) {
    List<Double> ms = new ArrayList<>();
    for (double[] st : r.steps) {
      if (st[0] >= from && st[0] < to && (r.parent == null || st[0] >= r.branchAt)) {
        ms.add(st[4]);
      }
    }
    return HarnessSupport.median(ms);
  }

  /**
   * The time-to-accuracy view (issue 16) when a run is the {@code --reference}: the target is its
   * checkpoint accuracy at {@code --target-step} (0: its last checkpoint). Prints the table and
   * the text chart, writes {@code time-to-accuracy.md}, {@code checkpoints.csv} and {@code
   * accuracy.png}, and adds the rows to the summary under {@code timeToAccuracy}.
   */
  private static void timeToAccuracy(PrintStream out, Options o, List<Run> runs,
      List<Map<String, Object>> rows) throws IOException {
    Run ref = runs.stream().filter(r -> r.name.equals(o.reference) || r.label.equals(o.reference))
        .findFirst().orElse(null);
    if (ref == null || ref.checkpoints.isEmpty()) {
      return;
    }
    List<TimeToAccuracy.Series> series = runs.stream()
        .map(r -> new TimeToAccuracy.Series(r.label, r.checkpoints)).toList();
    TimeToAccuracy.Series refSeries = series.get(runs.indexOf(ref));
    long step = o.targetStep > 0 ? o.targetStep
        : ref.checkpoints.get(ref.checkpoints.size() - 1).step();
    TimeToAccuracy.Target t = TimeToAccuracy.Target.of(refSeries, step);
    String md = TimeToAccuracy.markdown(series, t);
    String chart = TimeToAccuracy.textChart(series, t, 60, 14);
    out.println();
    out.println("time to accuracy (training time = sum of the run's own steps, evaluation "
        + "excluded; CPU = process CPU time of those steps):");
    out.print(md);
    out.println();
    out.print(chart);
    Files.writeString(o.out.resolve("time-to-accuracy.md"), md + "\n```\n" + chart + "```\n");
    Files.writeString(o.out.resolve("checkpoints.csv"), TimeToAccuracy.csv(series));
    TimeToAccuracy.plot(o.out.resolve("accuracy.png"), series, t);
    List<Map<String, Object>> tta = TimeToAccuracy.rows(series, t);
    for (int i = 0; i < rows.size() && i < tta.size(); i++) {
      rows.get(i).put("timeToAccuracy", tta.get(i));
    }
    out.printf(Locale.ROOT, "time to accuracy: %s, %s, %s%n", o.out.resolve("time-to-accuracy.md"),
        o.out.resolve("checkpoints.csv"), o.out.resolve("accuracy.png"));
  }

  /**
   * Writes {@code steps.csv} (every run's steps so far; rewritten at every checkpoint, so a
   * stopped run keeps its record).
   */
  private static void writeSteps(Options o, List<Run> runs) throws IOException {
    try (BufferedWriter w = Files.newBufferedWriter(o.out.resolve("steps.csv"))) {
      w.write("run,step,loss,accuracy,lr,step_ms,wall_s\n");
      for (Run r : runs) {
        for (double[] s : r.steps) {
          w.write(String.format(Locale.ROOT, "\"%s\",%d,%.6f,%.4f,%.6g,%.2f,%.3f%n", r.label,
              (long) s[0], s[1], s[2], s[3], s[4], s[5]));
        }
      }
    }
  }

  private static void writeOutputs(Options o, List<Run> runs) throws IOException {
    writeSteps(o, runs);
    ObjectMapper m = new ObjectMapper();
    try (BufferedWriter w = Files.newBufferedWriter(o.out.resolve("evals.jsonl"))) {
      for (Run r : runs) {
        for (EvaluationResult e : r.evals) {
          Map<String, Object> j = new LinkedHashMap<>();
          j.put("run", r.label);
          j.put("step", e.step());
          j.put("examples", e.examples());
          j.put("loss", e.loss());
          j.put("accuracy", e.accuracy());
          w.write(m.writeValueAsString(j));
          w.write('\n');
        }
        if (r.finalEval != null) {
          Map<String, Object> j = new LinkedHashMap<>();
          j.put("run", r.label);
          j.put("step", r.finalEval.step());
          j.put("examples", r.finalEval.examples());
          j.put("loss", r.finalEval.loss());
          j.put("accuracy", r.finalEval.accuracy());
          j.put("final", true);
          w.write(m.writeValueAsString(j));
          w.write('\n');
        }
      }
    }
    // losses clipped at 10 so that a diverged run does not flatten the others
    List<ComparisonPlot.Curve> curves = new ArrayList<>();
    for (Run r : runs) {
      List<double[]> rows = new ArrayList<>();
      for (double[] st : r.steps) {
        rows.add(new double[] {st[0], Math.min(st[1], 10), st[2], st[5]});
      }
      curves.add(new ComparisonPlot.Curve(r.label, rows));
    }
    ComparisonPlot.writeCurves(o.out.resolve("loss.png"), curves, 10, 1400, 550);
  }
}
