package dev.dks.cli;

import dev.dks.rewriter.DksRewrite;
import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.pipeline.RewritePass;
import dev.dks.savedmodels.ModelReaders;
import dev.dks.solver.init.HomogeneousMode;
import dev.dks.solver.solve.ShapingSolution;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code dks rewrite MODEL --out DIR}: runs the DKS/TAT rewrite ({@link DksRewrite#pipeline})
 * on a model of any format {@link ModelReaders} reads (SavedModel folder, frozen {@code .pb},
 * TensorFlow.js graph or layers {@code model.json}, Keras {@code .h5}), prints every pass's
 * outcome and the shaping solution, and writes the rewritten model as a serving SavedModel with
 * {@link dev.dks.savedmodels.export.ServingExporter} (atomically: a temporary folder beside DIR,
 * then a rename; a non-empty DIR is refused before anything runs), with the shaping recorded in
 * {@code assets.extra/dks-shaping.json} (see {@link ModelShaping}). {@code
 * --dry-run} writes nothing; {@code --list-passes} prints the passes and exits. A model in which
 * the rewrite shapes no activation and re-initializes no layer is refused (exit 2, nothing
 * written).
 */
@Command(
    name = "rewrite",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    sortOptions = false,
    sortSynopsis = false,
    description = "Rewrite a model into a DKS/TAT network: no normalization, no (or normalized) "
        + "skips, shaped activations, DKS initialization.",
    footer = {"", "MODEL is a SavedModel folder, a frozen GraphDef (.pb), a TensorFlow.js graph "
        + "or layers model (model.json) or a Keras HDF5 file (.h5); the output is a serving "
        + "SavedModel folder (tag serve, serving_default).", "", "Examples:",
        "  dks rewrite resnet50 --out resnet50_tat",
        "  dks rewrite frozen.pb --method DKS --activation softplus --out net_dks --json",
        "  dks rewrite resnet50 --shortcut-weight 0.5 --keep-maxpool --dry-run",
        "  dks rewrite --list-passes"})
public final class RewriteCommand implements Callable<Integer> {
  @Spec private CommandSpec spec;
  @picocli.CommandLine.Mixin private UntrustedFlags untrusted; // --allow-ops (issue 17)

  @Parameters(index = "0", arity = "0..1", paramLabel = "MODEL",
      description = "SavedModel folder, frozen GraphDef (.pb), model.json or Keras .h5.")
  private Path model;

  @Option(names = "--out", paramLabel = "DIR",
      description = "SavedModel folder to write (must not exist, or be empty).")
  private Path out;

  @Mixin private ShapingFlags shaping;

  @Option(names = "--shortcut-weight", paramLabel = "W", defaultValue = "0",
      description = "0 removes skip connections (default); W in (0, 1] keeps them as "
          + "sqrt(1-W^2)*residual + W*shortcut.")
  private double shortcutWeight;

  @Option(names = "--keep-maxpool",
      description = "Keep max-pooling (default: replace it by average pooling).")
  private boolean keepMaxPool;

  @Option(names = "--pln", paramLabel = "one|avg_q|off|none",
      description = "Per-location input normalization: homogeneous coordinate one (default), "
          + "avg_q or off; none leaves the input alone.")
  private String pln;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "0",
      description = "Seed of the DKS initialization (default 0).")
  private long seed;

  @Option(names = "--skip", paramLabel = "PASS", split = ",",
      description = "Passes to skip, by name (see --list-passes).")
  private List<String> skip = new ArrayList<>();

  @Option(names = "--dump-dir", paramLabel = "D",
      description = "Write the graph after passes as binary GraphDefs NN-pass.pb into D.")
  private Path dumpDir;

  @Option(names = "--dump", paramLabel = "PASS", split = ",",
      description = "With --dump-dir: the passes after which to dump (default: all).")
  private List<String> dump = new ArrayList<>();

  @Option(names = "--dry-run", description = "Run and report, but write nothing.")
  private boolean dryRun;

  @Option(names = "--json", description = "Print one JSON object instead of a summary.")
  private boolean json;

  @Option(names = "--list-passes", description = "Print the passes in order and exit.")
  private boolean listPasses;

  /** Validates, rewrites, writes, prints; returns the exit code. */
  @Override
  public Integer call() {
    shaping.validate();
    RewriteOptions options = options();
    Pipeline.Builder builder = DksRewrite.pipeline(options);
    PrintWriter w = spec.commandLine().getOut();
    if (listPasses) {
      w.print(passList(builder.build().passes()));
      w.flush();
      return 0;
    }
    if (model == null) {
      throw usage("missing MODEL: name a SavedModel folder, a frozen .pb, a model.json or a "
          + "Keras .h5");
    }
    if (out == null && !dryRun) {
      throw usage("missing --out DIR (or --dry-run to write nothing)");
    }
    if (!dump.isEmpty() && dumpDir == null) {
      throw usage("--dump needs --dump-dir");
    }
    Path target = out == null ? null : out.toAbsolutePath().normalize();
    if (target != null && !dryRun) {
      ServingOutput.requireWritable(target);
    }
    if (!skip.isEmpty()) {
      builder.skip(skip.toArray(String[]::new));
    }
    if (dumpDir != null) {
      builder.dump(dumpDir, dump.isEmpty() ? new String[] {"all"} : dump.toArray(String[]::new));
    }
    Pipeline pipeline = builder.build();
    ModelReaders.Loaded loaded = ModelInput.load(model, untrusted);
    Pipeline.Result result = pipeline.run(loaded.model());
    refuseNothingShaped(result);
    // a shaping whose predicted q leaves float32's range (gated networks): refused, not written
    RewriteOutput.refuseQOverflow(result, options);
    Path written = null;
    if (!dryRun) {
      written = RewriteOutput.write(result, options, target, untrusted);
    }
    RewriteReport report = new RewriteReport(loaded, options, pipeline.passes(), result,
        written, dryRun);
    w.print(json ? Json.write(report.json()) : report.text());
    w.flush();
    return 0;
  }

  /**
   * Refuses (exit 2, nothing written) a model in which the rewrite shaped no activation and
   * re-initialized no layer, such as TF Serving's half_plus_two (y = x/2 + 2): it is not a
   * network DKS/TAT can shape, and the input normalization alone would only change its function.
   * Not when dks-init was skipped (--skip): then the user chose what to run.
   */
  private void refuseNothingShaped(Pipeline.Result result) {
    boolean shaped = result.fact(ShapingSolution.class).isPresent();
    boolean initialized = result.outcomes().stream()
        .noneMatch(o -> o.pass().equals("dks-init") && o.changes() == 0);
    if (!shaped && !initialized) {
      throw new IllegalArgumentException(model + ": nothing to shape: the network path from the "
          + "input has no activation and no layer (MatMul, Conv2D, ...) that DKS/TAT could shape "
          + "or initialize, so the model is not rewritten and nothing is written; rewrite a "
          + "network with nonlinear layers");
    }
  }

  private RewriteOptions options() {
    RewriteOptions o = shaping.apply(RewriteOptions.defaults()).withShortcutWeight(shortcutWeight)
        .withKeepMaxPool(keepMaxPool).withSeed(seed);
    if (pln != null) {
      String p = pln.trim().toLowerCase(Locale.ROOT);
      HomogeneousMode mode = null;
      if (!p.equals("none")) {
        try {
          mode = HomogeneousMode.fromName(p);
        } catch (IllegalArgumentException e) {
          throw usage("unknown --pln '" + pln + "': use one, avg_q, off or none");
        }
      }
      o = o.withInputNormalization(mode);
    }
    return o;
  }

  private static String passList(List<RewritePass> passes) {
    StringBuilder b = new StringBuilder();
    int i = 0;
    for (RewritePass p : passes) {
      b.append(String.format(Locale.ROOT, "%2d  %-24s %s%n", ++i, p.name(), p.description()));
    }
    return b.toString();
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }
}
