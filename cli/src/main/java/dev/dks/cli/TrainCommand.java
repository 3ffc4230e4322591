package dev.dks.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorSpec;
import dev.dks.savedmodels.assets.SharedAssets;
import dev.dks.solver.solve.Method;
import dev.dks.savedmodels.export.ServingExporter;
import dev.dks.savedmodels.export.TrainingExporter;
import dev.dks.savedmodels.shaping.ShapingMetadata;
import dev.dks.savedmodels.shaping.ShapingMetadataFiles;
import dev.dks.savedmodels.shaping.ShapingMetadataJson;
import dev.dks.trainers.data.BatchIterator;
import dev.dks.trainers.data.DataFormatException;
import dev.dks.trainers.data.DataNotFoundException;
import dev.dks.trainers.data.DataSets;
import dev.dks.trainers.data.Dataset;
import dev.dks.trainers.device.DevicePlacement;
import dev.dks.trainers.graph.BatchNormTraining;
import dev.dks.trainers.graph.InputStandardization;
import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.loop.BatchSource;
import dev.dks.trainers.graph.TrainingSpec;
import dev.dks.trainers.loop.CheckpointListener;
import dev.dks.trainers.loop.DivergenceGuard;
import dev.dks.trainers.loop.DivergenceReport;
import dev.dks.trainers.loop.EvaluationListener;
import dev.dks.trainers.loop.EvaluationResult;
import dev.dks.trainers.loop.JsonLinesListener;
import dev.dks.trainers.loop.ProgressListener;
import dev.dks.trainers.loop.Trainer;
import dev.dks.trainers.kfac.ConvApproximation;
import dev.dks.trainers.kfac.KfacGraph;
import dev.dks.trainers.kfac.Registration;
import dev.dks.trainers.loop.TrainingOutcome;
import dev.dks.trainers.optim.RunLength;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code dks train MODEL --data NAME|PATH ...}: trains a model (any format {@link ModelReaders}
 * reads) with the trainers module — {@link TrainingGraph} (softmax cross-entropy, optional label
 * smoothing and L2 on kernels, SGD / momentum / Nesterov or K-FAC as TF ops) driven by a {@link Trainer}
 * with a divergence guard, checkpoints to {@code DIR/checkpoint.ckpt}, evaluation on the test
 * part (or a seeded 20% split when the data set has none, e.g. {@code digits}; {@code
 * --eval-examples N}: a seeded random N of it) after the last step, JSON lines to
 * {@code DIR/metrics.jsonl} and a progress bar on stderr — then writes the trained values as a
 * training SavedModel ({@code DIR/training}, {@link TrainingExporter}) and a serving SavedModel
 * ({@code DIR/serving}, {@link ServingExporter}), both carrying the input's shaping record
 * ({@code assets.extra/dks-shaping.json}, see {@link ModelShaping}) with the steps trained
 * added. Without {@code --steps} or {@code --epochs} a run is one epoch, at least 300 steps,
 * and with a training batch norm long enough for its moving averages ({@link
 * RunLength#byDefault}). Optimizer settings left out take the optimizer's defaults ({@link TrainSettings}:
 * K-FAC for a DKS/TAT-shaped model, else Nesterov; printed with the results). {@code --resume}
 * continues exactly from the
 * checkpoint. Prints a summary (steps, loss, accuracy, steps/s, device), or one JSON object with
 * {@code --json}.
 */
@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    sortOptions = false,
    sortSynopsis = false,
    description = "Train a model on a data set with SGD or K-FAC through the TF runtime.",
    footer = {"", "Examples:",
        "  dks train cnn --data fashion-mnist --out run0     (one epoch, at least 300 steps)",
        "  dks train cnn --data fashion-mnist --epochs 5 --out run1",
        "  dks train cnn --data fashion-mnist --epochs 10 --out run1 --resume",
        "  dks train cnn --data fashion-mnist --optimizer kfac --steps 2000 --out run2",
        "  dks train cnn --data fashion-mnist --optimizer kfac --kfac-recipe tat --damping 1e-2 "
            + "--steps 2000 --out run3"})
public final class TrainCommand implements Callable<Integer> {
  /** The checkpoint file inside the output folder. */
  static final String CHECKPOINT = "checkpoint.ckpt";
  /** The metrics file inside the output folder. */
  static final String METRICS = "metrics.jsonl";
  /** Examples per evaluation batch. */
  private static final int EVAL_BATCH = 256;

  @Spec private CommandSpec spec;
  @picocli.CommandLine.Mixin private UntrustedFlags untrusted; // --allow-ops (issue 17)
  @picocli.CommandLine.Mixin private ClusterFlags clusterFlags; // --cluster/--task (issue 13)

  @Parameters(index = "0", paramLabel = "MODEL", description = "The model to train.")
  private Path model;

  @Option(names = "--data", required = true, paramLabel = "NAME|PATH",
      description = "fashion-mnist, mnist, digits, synthetic[:HxWxC[:classes[:n]]] or a folder.")
  private String data;

  @Option(names = "--optimizer", paramLabel = "auto|sgd|momentum|nesterov|kfac",
      description = "Update rule (default auto: kfac for a DKS/TAT-shaped model, whose "
          + "shaping record says so, else nesterov, Nesterov momentum 0.9). Every optimizer flag "
          + "left out (or given as auto) takes the optimizer's default, printed with the results.")
  private String optimizer;

  @Option(names = "--kfac-recipe", paramLabel = "default|tat",
      description = "K-FAC base settings (default: K-FAC-reduce convs, damping 1e-2, inverses "
          + "every 10, peak lr 1e-3, stable on global-average-pooled CNNs at batch 128); tat: the "
          + "TAT paper's ImageNet recipe (KFC-expand, damping 1e-3, inverses every 50, peak lr "
          + "3e-4; diverges on those CNNs at batch 128). The flags below override either.")
  private String kfacRecipe;

  @Option(names = "--damping", paramLabel = "LAMBDA|auto",
      description = "K-FAC Tikhonov damping (default 1e-2; tat recipe 1e-3; --l2 is added).")
  private String damping;

  @Option(names = "--inverse-every", paramLabel = "N",
      description = "K-FAC: steps between inverse refreshes (default 10; tat recipe 50).")
  private Integer inverseEvery;

  @Option(names = "--curvature-every", paramLabel = "N",
      description = "K-FAC: steps between curvature statistics updates (default 2, or 1 when "
          + "--inverse-every is odd; tat recipe 1; a divisor of --inverse-every; see README).")
  private Integer curvatureEvery;

  @Option(names = "--curvature-dense-steps", paramLabel = "N",
      description = "K-FAC: take curvature statistics at every step before global step N, "
          + "every --curvature-every steps after it (default 0: the period from step 0).")
  private Integer curvatureDenseSteps;

  @Option(names = "--curvature-ema", paramLabel = "RHO",
      description = "K-FAC: moving-average decay of the curvature (default 0.99).")
  private Double curvatureEma;

  @Option(names = "--norm-constraint", paramLabel = "C",
      description = "K-FAC: norm constraint (KL clipping) C_max, 0 = off (default 1e-3).")
  private Double normConstraint;

  @Option(names = "--burn-in", paramLabel = "N",
      description = "K-FAC: batches of curvature statistics before the first update (default 5).")
  private Integer burnIn;

  @Option(names = "--estimation", paramLabel = "sampled|curvature-prop|empirical|exact",
      description = "K-FAC: how the curvature is estimated (default sampled: true Fisher, one "
          + "sampled target per example).")
  private String estimation;

  @Option(names = "--inverse", paramLabel = "cholesky|lu|eigen",
      description = "K-FAC: factored damping with Cholesky or LU inverses, or exact damping from "
          + "eigendecompositions (default cholesky).")
  private String inverse;

  @Option(names = "--conv-approximation", paramLabel = "expand|reduce|hybrid|auto",
      description = "K-FAC conv blocks: reduce (per-example mean patches and summed output "
          + "gradients; exact in front of a global average pool, T times cheaper; default), "
          + "expand (KFC, locations as examples; the tat recipe's) or hybrid (expand's patch "
          + "factor with reduce's summed gradients: never below reduce's curvature).")
  private String convApproximation;

  @Option(names = "--adaptive-damping",
      description = "K-FAC: adapt the damping by the Levenberg-Marquardt rule every 5 steps "
          + "(one extra forward pass each time); default: fixed --damping.")
  private boolean adaptiveDamping;

  @Option(names = "--stats-examples", paramLabel = "N",
      description = "K-FAC: statistics from the first N examples of each batch (default 32; "
          + "tat recipe 0; 0: all). They run on a copy of the forward pass that reads only those "
          + "rows, so they cost N rows instead of the batch (with statistics every 2 steps a "
          + "K-FAC step costs about 1.2x SGD's on the README cnn, the whole batch at every step "
          + "1.6-1.9x; accuracy in the README).")
  private Integer statsExamples;

  @Option(names = "--patch-rows-per-dim", paramLabel = "K",
      description = "K-FAC, KFC-expand convs: estimate each conv's input factor from K x d_A "
          + "patch rows sampled from the batch (unbiased; tensorflow/kfac's cap) instead of all "
          + "B x H x W rows: 3.2x cheaper statistics on 28x28 maps at the same loss "
          + "(default 3; 0: every row, the TAT paper's exact batch statistics).")
  private Double patchRowsPerDim;

  @Option(names = "--lr", paramLabel = "LR|auto",
      description = "Peak learning rate (default: the optimizer's: 0.02 for nesterov and "
          + "momentum, 0.2 for sgd (0.005 and 0.05 on a DKS/TAT-shaped model), 1e-3 for kfac, "
          + "3e-4 for the tat recipe).")
  private String lr;

  @Option(names = "--schedule", paramLabel = "constant|cosine|step|auto",
      description = "Learning rate schedule (default cosine, to 0 at the last step); step: x0.1 "
          + "at 50%% and x0.01 at 75%% of the steps.")
  private String schedule;

  @Option(names = "--warmup-steps", paramLabel = "N|auto",
      description = "Linear warm-up steps, fewer than the run's (default: 10%% of the run's "
          + "steps).")
  private String warmup;

  @Option(names = "--momentum", paramLabel = "MU",
      description = "Momentum for momentum, nesterov and kfac (default 0.9).")
  private Double momentum;

  @Option(names = "--steps", paramLabel = "N",
      description = "Total optimizer steps (default: one epoch, at least 300 steps: 468 on "
          + "Fashion-MNIST or MNIST at batch 128, 300 on the digits; with a training batch norm "
          + "at least until its moving averages keep under 0.1%% of their start, 688 at "
          + "momentum 0.99; the warm-up and cosine follow the length).")
  private Long steps;

  @Option(names = "--epochs", paramLabel = "E",
      description = "Total epochs, whole batches each (instead of --steps).")
  private Double epochs;

  @Option(names = "--batch", paramLabel = "B", defaultValue = "128",
      description = "Batch size (default 128).")
  private int batch;

  @Option(names = "--label-smoothing", paramLabel = "EPS", defaultValue = "0",
      description = "Label smoothing epsilon (default 0).")
  private double labelSmoothing;

  @Option(names = "--l2", paramLabel = "C", defaultValue = "0",
      description = "L2 coefficient on kernels (default 0).")
  private double l2;

  @Option(names = "--standardize", paramLabel = "on|off", defaultValue = "off",
      description = "on: standardize the input per channel by the training data's mean and "
          + "standard deviation, as ops inside the model, so the exported models standardize "
          + "too and still take raw values (default off; a model that already standardizes, "
          + "e.g. the training/ folder of such a run, keeps its own; an input that is not a "
          + "float32 [-1, H, W, C] image is refused).")
  private String standardize;

  @Option(names = "--bn-mode", paramLabel = "train|frozen", defaultValue = "train",
      description = "Batch normalization (default train: batch statistics in training steps, "
          + "moving averages updated with the model's momentum, else 0.99; evaluation and the "
          + "exported model use the moving averages); frozen: BN stays a fixed affine map.")
  private String bnMode;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "0",
      description = "Seed of the data order and of the validation split (default 0).")
  private long seed;

  @Option(names = "--device", paramLabel = "cpu|gpu|auto", defaultValue = "auto",
      description = "Where the graph runs (default auto: the GPU when TF has one, else the "
          + "CPU); gpu without a GPU runs on the CPU.")
  private String device;

  @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
      description = "Intra-op threads (default 0: TF decides).")
  private int threads;

  @Option(names = "--out", paramLabel = "DIR", defaultValue = "dks-train",
      description = "Output folder (default dks-train): must be new or empty unless --resume.")
  private Path out;

  @Option(names = "--resume", description = "Continue from DIR/checkpoint.ckpt.")
  private boolean resume;

  @Option(names = "--checkpoint-every", paramLabel = "N", defaultValue = "500",
      description = "Steps between checkpoints (default 500; also at the end).")
  private long checkpointEvery;

  @Option(names = "--eval-every", paramLabel = "N", defaultValue = "500",
      description = "Steps between test evaluations (default 500; also at the end).")
  private long evalEvery;

  @Option(names = "--eval-examples", paramLabel = "N", defaultValue = "0",
      description = "Test examples each evaluation uses: a random N of the test part, the same "
          + "ones each time (chosen by --seed); default 0: all.")
  private int evalExamples;

  @Option(names = "--json", description = "Print one JSON object instead of a summary.")
  private boolean json;

  /** Validates, trains, exports, prints; returns the exit code. */
  @Override
  public Integer call() {
    validate();
    // distributed (issue 13): the cluster is checked before anything else starts
    Optional<dev.dks.trainers.distributed.ClusterSpec> cluster = clusterFlags.resolve();
    cluster.ifPresent(c -> DistributedTraining.check(c, batch));
    boolean chief = cluster.map(c -> c.isChief()).orElse(true);
    Path dir = out.toAbsolutePath().normalize();
    Path ckpt = dir.resolve(CHECKPOINT);
    if (resume) {
      if (!Files.isRegularFile(ckpt)) {
        throw new IllegalArgumentException("--resume: no checkpoint " + ckpt);
      }
    } else if (chief) {
      ServingOutput.requireWritable(dir);
    }
    DevicePlacement.Device requested = DevicePlacement.Device.parse(device);
    // the first session of the process fixes the intra-op pool (TF Java notes R9): the device
    // probe runs with --threads' config before the model reader opens its SavedModelBundle
    var config = DevicePlacement.config(false, threads, 0);
    DevicePlacement placement = DevicePlacement.resolve(requested, config);
    Model loaded = ModelInput.load(model, untrusted).model();
    Optional<ShapingMetadata> shaping = ModelShaping.read(model);
    Data d = evaluatedPart(loadData());
    checkShape(loaded, d.train);
    InputStandardization.Result standardization = standardization(loaded, d.train);
    Model original = standardization.model();

    BatchIterator it = BatchIterator.builder(d.train).batchSize(batch).seed(seed).dropLast(true)
        .build();
    RunLength length = steps != null ? RunLength.ofSteps(steps, it.batchesPerEpoch())
        : epochs != null ? RunLength.ofEpochs(epochs, it.batchesPerEpoch())
        : RunLength.byDefault(it.batchesPerEpoch(), bnMomentum(original));
    long total = length.steps();
    placement.notice().ifPresent(n -> {
      spec.commandLine().getErr().println(n);
      spec.commandLine().getErr().flush();
    });
    TrainSettings settings = settings(length, shaping.map(TrainCommand::shapedForKfac)
        .orElse(false));
    TrainingSpec ts = trainingSpec(settings)
        .withDeclaredSites(ModelShaping.declaredSites(shaping));
    DistributedTraining dist = cluster.isEmpty() ? null : DistributedTraining.start(cluster.get(),
        config, batch, clusterFlags, spec.commandLine().getErr());
    try (TrainingGraph tg = TrainingGraph.build(placement.place(original), ts, config,
        dist == null ? null : dist.server(), untrusted.allowed())) {
      if (tg.classes() != d.train.classes()) {
        throw new IllegalArgumentException("the model has " + tg.classes() + " classes, "
            + d.train.name() + " has " + d.train.classes());
      }
      var err0 = spec.commandLine().getErr();
      err0.println("settings: " + settings.line());
      err0.println("input: " + inputLine(standardization));
      tg.softmaxOutput().ifPresent(out -> err0.println("logits: " + tg.logitsTensor()
          + ", the input of the Softmax served as " + out + " (trained without the Softmax; "
          + "the served model keeps it)"));
      if (!tg.batchNormSites().isEmpty()) {
        err0.printf(Locale.ROOT, "batch norm: %d layers train with batch statistics, moving "
            + "averages with momentum %s%n", tg.batchNormSites().size(),
            tg.batchNormSites().stream().map(b -> String.valueOf(b.momentum())).distinct()
                .collect(java.util.stream.Collectors.joining(", ")));
      }
      err0.flush();
      tg.kfac().ifPresent(k -> {
        var err = spec.commandLine().getErr();
        err.println("K-FAC curvature blocks:");
        k.registration().log().forEach(line -> err.println("  " + line));
        err.flush();
      });
      Trainer.Builder tb = Trainer.builder(tg, dist == null ? BatchSource.of(it)
          : dist.shard(BatchSource.of(it))).schedule(settings.learningRateSchedule())
          .momentum(settings.momentum()).totalSteps(total).dataSeed(seed).validation(d.test);
      if (dist != null) {
        tb.listener(dist.startListener());
      }
      tb.listener(new DivergenceGuard());
      if (chief) { // in a cluster only the chief writes
        tb.listener(new CheckpointListener(ckpt, checkpointEvery));
      }
      // every task evaluates, so no task waits on the chief's evaluation (collective timeout)
      EvaluationListener evaluation = new EvaluationListener(d.test, evalEvery, EVAL_BATCH);
      tb.listener(evaluation);
      if (chief) {
        tb.listener(new JsonLinesListener(dir.resolve(METRICS)));
      }
      Trainer trainer = tb.listener(new ProgressListener(System.err, "train")).build();
      long t0 = System.nanoTime();
      TrainingOutcome outcome;
      try {
        outcome = resume ? trainer.resume(ckpt) : trainer.run();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read checkpoint " + ckpt + ": " + e.getMessage(), e);
      } catch (IllegalStateException e) {
        throw new IllegalArgumentException(e.getMessage(), e);
      } catch (org.tensorflow.exceptions.TensorFlowException e) {
        throw dist == null ? e : dist.peerFailure(e);
      }
      double seconds = (System.nanoTime() - t0) * 1e-9;
      if (outcome.status() == TrainingOutcome.Status.DIVERGED) {
        throw new IllegalArgumentException(outcome.divergenceReport()
            .map(DivergenceReport::message).orElse("training diverged (non-finite loss).")
            + kfacHint(settings));
      }
      if (dist != null) {
        dist.finish(tg);
        if (!chief) {
          spec.commandLine().getErr().println("distributed: done after "
              + outcome.completedSteps() + " steps; the chief writes the results");
          dist.linger();
          return 0;
        }
      }
      EvaluationResult eval = finalEvaluation(evaluation, tg, d.test, outcome.completedSteps());
      Map<String, Integer> devices = traceDevices(tg, original, d.test);
      Model trained = original.with(original.graph(), tg.variables());
      Path training = dir.resolve("training");
      Path serving = dir.resolve("serving");
      deleteTree(training);
      deleteTree(serving);
      ShapingMetadata after = shaping.map(m -> m.withTrainedSteps(m.trainedSteps()
          + outcome.completedSteps())).orElse(null);
      TrainingExporter.export(trained, training, ShapingMetadataFiles.assetsExtra(after),
          untrusted.allowed());
      ServingExporter.export(trained, serving, ShapingMetadataFiles.assetsExtra(after),
          untrusted.allowed());
      long ran = outcome.completedSteps() - outcome.startStep();
      Summary s = new Summary(outcome, ran, seconds, eval, placement, devices, dir, d,
          settings, standardization, tg.kfac().map(KfacGraph::registration).orElse(null),
          after);
      PrintWriter w = spec.commandLine().getOut();
      w.print(json ? s.json() : s.text());
      w.flush();
      return 0;
    } catch (DataFormatException | DataNotFoundException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  /**
   * The model to train: with {@code --standardize on}, the input standardized by the training
   * part's per-channel statistics (kept as it is when the model already standardizes).
   */
  private InputStandardization.Result standardization(Model m, Dataset train) {
    if (standardize.equals("off")) {
      return InputStandardization.existing(m).map(e -> new InputStandardization.Result(m, e[0],
          e[1], false, "the model already standardizes its input (--standardize off adds "
              + "nothing, removes nothing)"))
          .orElse(new InputStandardization.Result(m, null, null, false, "raw values, not "
              + "standardized (--standardize on: per channel, inside the model)"));
    }
    return InputStandardization.apply(m, train.channelStats());
  }

  /** The {@code input:} line: what the model does to its input. */
  static String inputLine(InputStandardization.Result r) {
    if (!r.standardizes()) {
      return r.note();
    }
    return String.format(Locale.ROOT, "(x - mean) / std per channel, mean %s, std %s: %s",
        floats(r.mean()), floats(r.std()), r.note());
  }

  private static String floats(float[] v) {
    StringBuilder b = new StringBuilder(v.length == 1 ? "" : "[");
    for (int i = 0; i < v.length; i++) {
      b.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.4f", v[i]));
    }
    return b.append(v.length == 1 ? "" : "]").toString();
  }

  private TrainingSpec trainingSpec(TrainSettings settings) {
    TrainingSpec ts = TrainingSpec.defaults().withLabelSmoothing(labelSmoothing).withL2(l2)
        .withBatchNorm(bnMode());
    return settings.isKfac() ? ts.withKfac(settings.kfac())
        : ts.withOptimizer(settings.sgdKind());
  }

  /** {@code --bn-mode}; a bad value is a usage error. */
  private BatchNormTraining.Mode bnMode() {
    try {
      return TrainSettings.choice("--bn-mode", bnMode, BatchNormTraining.Mode.class);
    } catch (IllegalArgumentException e) {
      throw usage(e.getMessage());
    }
  }

  private TrainSettings.Flags flags() {
    return new TrainSettings.Flags(optimizer, kfacRecipe, lr, schedule, warmup, momentum,
        damping, convApproximation, inverseEvery, curvatureEvery, curvatureDenseSteps,
        curvatureEma, normConstraint,
        burnIn, estimation, inverse, statsExamples, patchRowsPerDim, adaptiveDamping, seed);
  }

  /**
   * The effective settings of a run of {@code total} steps of a model shaped by DKS/TAT or not;
   * a bad flag is a usage error.
   */
  private TrainSettings settings(RunLength length, boolean shaped) {
    try {
      return TrainSettings.resolve(flags(), length, shaped);
    } catch (IllegalArgumentException e) {
      throw usage(e.getMessage());
    }
  }

  /**
   * The largest moving-average momentum of the batch norms that train ({@code --bn-mode train}),
   * or {@code NaN}: the default run length lets those averages forget their start.
   */
  private double bnMomentum(Model m) {
    if (bnMode() != BatchNormTraining.Mode.TRAIN) {
      return Double.NaN;
    }
    return BatchNormTraining.sites(m, null).stream()
        .mapToDouble(BatchNormTraining.Site::momentum).max().orElse(Double.NaN);
  }

  /** Whether a shaping record makes {@code --optimizer auto} choose K-FAC: DKS or TAT. */
  static boolean shapedForKfac(ShapingMetadata m) {
    return m.method() == Method.DKS || m.method() == Method.TAT;
  }

  /** What to change after a divergence. */
  private static String kfacHint(TrainSettings settings) {
    if (!settings.isKfac()) {
      return " Try a lower --lr (this run's peak was " + settings.lr() + ").";
    }
    boolean expand = settings.kfac().conv() == ConvApproximation.EXPAND;
    return " For K-FAC try a lower --lr" + (expand ? ", " : " or ") + "a larger --damping (1e-2 "
        + "trains the builder's CNNs at batch 128, where the TAT recipe's 1e-3 diverges)"
        + (expand ? " or --conv-approximation reduce." : ".");
  }

  private void validate() {
    bnMode();
    if (!standardize.equals("on") && !standardize.equals("off")) {
      throw usage("--standardize takes on or off, got " + standardize);
    }
    if (steps != null && epochs != null) {
      throw usage("give one of --steps N and --epochs E, not both (neither: "
          + RunLength.rule() + ")");
    }
    if (steps != null && steps <= 0) {
      throw usage("--steps must be positive, got " + steps);
    }
    if (epochs != null && !(epochs > 0 && Double.isFinite(epochs))) {
      throw usage("--epochs must be positive, got " + epochs);
    }
    if (batch <= 0) {
      throw usage("--batch must be positive, got " + batch);
    }
    // flag values checked before the data loads
    settings(RunLength.ofSteps(Long.MAX_VALUE, 0), false);
    settings(RunLength.ofSteps(Long.MAX_VALUE, 0), true);
    if (threads < 0) {
      throw usage("--threads must be >= 0, got " + threads);
    }
    if (evalExamples < 0) {
      throw usage("--eval-examples must be >= 0 (0: the whole test part), got " + evalExamples);
    }
    if (checkpointEvery <= 0 || evalEvery <= 0) {
      throw usage("--checkpoint-every and --eval-every must be positive");
    }
    try {
      DevicePlacement.Device.parse(device);
    } catch (IllegalArgumentException e) {
      throw usage("--device: " + e.getMessage());
    }
  }

  /** The training part and the part evaluated. */
  private record Data(Dataset train, Dataset test, String testName) {}

  private Data loadData() {
    Path cache = SharedAssets.dataCacheDir();
    try {
      Dataset train = DataSets.load(data, cache);
      Dataset test;
      try {
        test = DataSets.load(data, cache, DataSets.Part.TEST);
        return new Data(train, test, "test");
      } catch (DataNotFoundException e) {
        Dataset.Split split = train.split(0.2, seed);
        return new Data(split.train(), split.validation(), "held-out 20%");
      }
    } catch (DataNotFoundException | DataFormatException e) {
      throw new IllegalArgumentException("--data " + data + ": " + e.getMessage(), e);
    }
  }

  /**
   * {@code d} with the part evaluated cut to {@code --eval-examples}: a seeded random subset (a
   * folder of images may list its test part class by class, so its first N would not do).
   */
  private Data evaluatedPart(Data d) {
    int n = d.test.size();
    if (evalExamples == 0 || evalExamples >= n) {
      return d;
    }
    int[] pick = Arrays.copyOf(BatchIterator.permutation(n, new SplittableRandom(seed)),
        evalExamples);
    Arrays.sort(pick);
    return new Data(d.train, d.test.subset(pick, d.test.name()),
        d.testName + ", a random " + evalExamples + " of " + n);
  }

  private static void checkShape(Model m, Dataset d) {
    TensorSpec in = m.signature(Signature.SERVING_DEFAULT).inputs().values().iterator().next();
    long[] s = in.shape();
    if (s != null && s.length == 2 && s[1] == (long) d.h() * d.w() * d.c()) {
      return; // a flat [-1, H*W*C] input (a TF1 MLP): fed each example row-major
    }
    if (s == null || s.length != 4 || s[1] != d.h() || s[2] != d.w() || s[3] != d.c()) {
      String hwc = s != null && s.length == 4 ? s[1] + "x" + s[2] + "x" + s[3]
          : s == null ? "unknown" : Arrays.toString(s);
      throw new IllegalArgumentException("the model takes " + hwc + " inputs (" + in.tensor()
          + ") but " + d.name() + " has "
          + d.h() + "x" + d.w() + "x" + d.c() + " examples (need [-1, " + d.h() + ", " + d.w()
          + ", " + d.c() + "] or [-1, " + (long) d.h() * d.w() * d.c() + "])");
    }
  }

  /**
   * The test evaluation of the trained variables: the listener's own after the run's last step
   * (nothing changes the variables after it), else (a resumed run with no steps left) a new one.
   * Evaluating twice cost a whole pass over the test part: on Fashion-MNIST's 10,000 test images
   * and the README's 20-layer CNN, 26 s of CPU, 30% of a whole 3-step run.
   */
  private static EvaluationResult finalEvaluation(EvaluationListener evaluation,
      TrainingGraph tg, Dataset test, long completedSteps) {
    EvaluationResult last = evaluation.last();
    return last != null && last.step() == completedSteps ? last
        : EvaluationListener.evaluate(tg, test, completedSteps, EVAL_BATCH);
  }

  /** Ops per device of one traced forward pass on a few test examples. */
  private static Map<String, Integer> traceDevices(TrainingGraph tg, Model m, Dataset test) {
    Signature sig = m.signature(Signature.SERVING_DEFAULT);
    TensorSpec in = sig.inputs().values().iterator().next();
    TensorSpec outSpec = sig.outputs().values().iterator().next();
    int n = Math.min(8, test.size());
    float[] x = Arrays.copyOf(test.images(), n * test.imageSize());
    Shape shape = tg.flatInput() ? Shape.of(n, (long) test.h() * test.w() * test.c())
        : Shape.of(n, test.h(), test.w(), test.c());
    try (TFloat32 t = TFloat32.tensorOf(shape, DataBuffers.of(x, true, false))) {
      return DevicePlacement.deviceSummary(tg.session().runner()
          .feed(in.tensor().node() + ":" + in.tensor().index(), t)
          .fetch(outSpec.tensor().node() + ":" + outSpec.tensor().index()));
    }
  }

  static void deleteTree(Path p) {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(q);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot replace " + p, e);
    }
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }

  /** What a run did, as text or JSON. */
  private record Summary(TrainingOutcome outcome, long ran, double seconds, EvaluationResult eval,
      DevicePlacement placement, Map<String, Integer> devices, Path dir, Data data,
      TrainSettings settings, InputStandardization.Result standardization,
      Registration registration, ShapingMetadata shaping) {
    double stepsPerSecond() {
      return seconds > 0 ? ran / seconds : 0;
    }

    String text() {
      var last = outcome.lastStep();
      return String.format(Locale.ROOT, "trained %d steps (%d this run, from step %d) in %.1f s: "
          + "%.2f steps/s on %s with %s%n"
          + "settings: %s%n"
          + "input: %s%n"
          + "last train loss %.4f, accuracy %.4f%n"
          + "%s (%s, %d examples): loss %.4f, accuracy %.4f%n"
          + "ops per device: %s%n"
          + "wrote %s (metrics.jsonl, checkpoint.ckpt, training/, serving/)%n%s",
          outcome.completedSteps(), ran, outcome.startStep(), seconds, stepsPerSecond(),
          placement.label(), optimizerLabel(), settings.line(), inputLine(standardization),
          last == null ? Double.NaN : last.loss(),
          last == null ? Double.NaN : last.accuracy(), data.test.name(), data.testName,
          eval.examples(), eval.loss(), eval.accuracy(), DevicePlacement.describe(devices), dir,
          shaping == null ? "" : "shaping from the model, carried to training/ and serving/: "
              + shaping.summary() + System.lineSeparator());
    }

    String optimizerLabel() {
      return registration == null ? settings.optimizer() : String.format(Locale.ROOT,
          "kfac (%d Kronecker-factored layers, %d diagonal blocks)", registration.layers().size(),
          registration.diagonal().size());
    }

    String json() {
      ObjectNode o = Json.object();
      o.put("status", outcome.status().name().toLowerCase(Locale.ROOT));
      o.put("optimizer", settings.optimizer());
      settings.json(o.putObject("settings"));
      ObjectNode input = o.putObject("input");
      input.put("standardized", standardization.standardizes());
      input.put("added", standardization.added());
      if (standardization.standardizes()) {
        for (float v : standardization.mean()) {
          input.withArray("mean").add(v);
        }
        for (float v : standardization.std()) {
          input.withArray("std").add(v);
        }
      }
      if (registration != null) {
        ObjectNode k = o.putObject("kfac");
        k.put("kronecker_layers", registration.layers().size());
        k.put("diagonal_blocks", registration.diagonal().size());
        registration.log().forEach(k.putArray("blocks")::add);
      }
      o.put("steps", outcome.completedSteps());
      o.put("start_step", outcome.startStep());
      o.put("steps_this_run", ran);
      o.put("seconds", seconds);
      o.put("steps_per_second", stepsPerSecond());
      if (outcome.lastStep() != null) {
        o.put("train_loss", outcome.lastStep().loss());
        o.put("train_accuracy", outcome.lastStep().accuracy());
      }
      ObjectNode t = o.putObject("test");
      t.put("data", data.test.name());
      t.put("examples", eval.examples());
      t.put("loss", eval.loss());
      t.put("accuracy", eval.accuracy());
      ObjectNode dev = o.putObject("device");
      dev.put("requested", placement.requested().name().toLowerCase(Locale.ROOT));
      dev.put("effective", placement.effective().name().toLowerCase(Locale.ROOT));
      placement.notice().ifPresent(n -> dev.put("notice", n));
      ObjectNode ops = dev.putObject("ops");
      devices.forEach(ops::put);
      o.put("out", dir.toString());
      o.put("training", dir.resolve("training").toString());
      o.put("serving", dir.resolve("serving").toString());
      o.put("metrics", dir.resolve(METRICS).toString());
      o.put("checkpoint", dir.resolve(CHECKPOINT).toString());
      if (shaping == null) {
        o.putNull("shaping");
      } else {
        o.set("shaping", ShapingMetadataJson.tree(shaping));
      }
      return Json.write(o);
    }
  }
}
