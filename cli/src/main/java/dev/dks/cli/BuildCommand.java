package dev.dks.cli;

import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.BuiltModel;
import dev.dks.rewriter.builder.InputShape;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.builder.Pooling;
import dev.dks.savedmodels.shaping.ShapingMetadataFiles;
import dev.dks.solver.solve.Method;
import dev.dks.solver.solve.TatTargets;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code dks build}: builds an MLP, plain CNN or ResNet (optionally DKS/TAT-shaped) with {@link
 * ModelBuilder} and writes it as a serving SavedModel folder with {@link
 * dev.dks.savedmodels.export.ServingExporter} (tag {@code serve}, signature {@code
 * serving_default}: {@code input} [-1, H, W, C] float32 NHWC to {@code logits} [-1, classes];
 * written atomically; a shaped build also records its shaping in {@code
 * assets.extra/dks-shaping.json}, see {@link ModelShaping}).
 * Prints a summary, or one JSON object with {@code --json}.
 */
@Command(
    name = "build",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    sortOptions = false,
    sortSynopsis = false,
    description = "Build an MLP, plain CNN or ResNet (raw or DKS/TAT-shaped) as a SavedModel.",
    footer = {"", "Examples:",
        "  dks build --arch resnet --depth 50 --bn --input 32x32x3 --out resnet50",
        "  dks build --arch plain-cnn --depth 20 --activation tanh --shaped --method DKS --out cnn",
        "  dks build --arch resnet --depth 18 --activation leaky_relu --shaped --method TAT "
            + "--shortcut-weight 0.5 --out r18"})
public final class BuildCommand implements Callable<Integer> {
  @Spec private CommandSpec spec;

  @Option(names = "--arch", required = true, paramLabel = "mlp|plain-cnn|resnet",
      converter = ArchConverter.class, description = "Architecture family.")
  private Architecture arch;

  @Option(names = "--depth", required = true, paramLabel = "D",
      description = "Hidden layers (mlp, plain-cnn) or ResNet depth (18, 34, 50, 101, 152, 200).")
  private int depth;

  @Option(names = "--width", paramLabel = "W",
      description = "Hidden width (default 256 for mlp, 64 for conv nets); ResNets: base width "
          + "of the stem and first group (doubled per group).")
  private Integer width;

  @Option(names = "--bn", description = "Batch normalization (FusedBatchNormV3, inference form).")
  private boolean bn;

  @Option(names = "--activation", paramLabel = "NAME",
      description = "Activation (default relu; with --shaped --method TAT leaky_relu, the "
          + "activation TAT shapes; see 'dks activations').")
  private String activation;

  @Option(names = "--input", paramLabel = "HxWxC", defaultValue = "28x28x1",
      converter = InputConverter.class, description = "Input example shape (default 28x28x1).")
  private InputShape input;

  @Option(names = "--classes", paramLabel = "N", defaultValue = "10",
      description = "Number of logits (default 10).")
  private int classes;

  @Option(names = "--shaped", description = "Shape the activations by DKS or TAT at build time.")
  private boolean shaped;

  @Option(names = "--method", paramLabel = "DKS|TAT", converter = SolveCommand.MethodConverter.class,
      description = "Shaping method with --shaped (default DKS).")
  private Method method;

  @Option(names = "--eta", paramLabel = "E|auto", converter = ShapingFlags.EtaConverter.class,
      description = "With --shaped --method TAT: the network's C(0) target for leaky_relu, in "
          + "[0, 1], or 'auto' (the default): 0.9, or the largest C(0) the network reaches when "
          + "that is less (a shallow network or a strong --shortcut-weight), said in the output "
          + "and recorded. A number is exact: a network that cannot reach it is refused.")
  private Double eta;

  @Option(names = "--shortcut-weight", paramLabel = "W",
      description = "ResNets: normalized skips sqrt(1-W^2)*residual + W*shortcut, W in [0, 1]; "
          + "0 removes the skips (default with --shaped: 0; without: plain AddV2).")
  private Double shortcutWeight;

  @Option(names = "--v1", description = "ResNet v1 (post-activation); default v2.")
  private boolean v1;

  @Option(names = "--stem", paramLabel = "auto|small|imagenet", defaultValue = "auto",
      converter = StemConverter.class,
      description = "ResNet stem: small = 3x3/1 conv, no max-pool; imagenet = 7x7/2 conv + "
          + "3x3/2 max-pool; auto = small when H or W < 64 (default).")
  private ArchitectureSpec.Stem stem;

  @Option(names = "--pooling", paramLabel = "none|stride|avg|max", converter = PoolingConverter.class,
      description = "Plain CNNs: down-sample by stride-2 convs, 2x2 average or max pools "
          + "(default none).")
  private Pooling.Kind pooling;

  @Option(names = "--pool-every", paramLabel = "K",
      description = "Plain CNNs: down-sample after every K conv layers (default 2).")
  private Integer poolEvery;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "0",
      description = "Seed of the weight initialization (default 0).")
  private long seed;

  @Option(names = "--out", required = true, paramLabel = "DIR",
      description = "SavedModel folder to write (must not exist, or be empty).")
  private Path out;

  @Option(names = "--json", description = "Print one JSON object instead of a summary.")
  private boolean json;

  /** Validates, builds, exports, prints; returns the exit code. */
  @Override
  public Integer call() {
    ArchitectureSpec s = spec();
    ServingOutput.requireWritable(out);
    BuiltModel built = ModelBuilder.build(s);
    Path written = ServingOutput.export(built.model(), out,
        ShapingMetadataFiles.assetsExtra(ModelShaping.ofBuild(built))).dir();
    BuildReport report = new BuildReport(built, written);
    PrintWriter w = spec.commandLine().getOut();
    w.print(json ? report.json() : report.text());
    w.flush();
    return 0;
  }

  /** The validated spec (throws ParameterException or IllegalArgumentException). */
  ArchitectureSpec spec() {
    if (method != null && !shaped) {
      throw usage("--method applies with --shaped only");
    }
    if (eta != null && (!shaped || method != Method.TAT)) {
      throw usage("--eta applies with --shaped --method TAT only");
    }
    if (v1 && arch != Architecture.RESNET) {
      throw usage("--v1 applies to --arch resnet only");
    }
    if (poolEvery != null && pooling == null) {
      throw usage("--pool-every needs --pooling stride|avg|max");
    }
    ArchitectureSpec.Builder b = ArchitectureSpec.builder(arch, depth).batchNorm(bn)
        .activation(activationOrDefault()).input(input).classes(classes).resnetV2(!v1).stem(stem)
        .seed(seed);
    if (width != null) {
      b.width(width);
    }
    if (shaped) {
      b.shaped(method == null ? Method.DKS : method);
    }
    if (eta != null && !eta.isNaN()) { // a number is exact; absent or 'auto': the spec's auto rule
      b.tatTargets(new TatTargets(eta, TatTargets.DEFAULT_TAU));
    }
    if (shortcutWeight != null) {
      b.shortcutWeight(shortcutWeight);
    }
    if (pooling != null) {
      b.pooling(Pooling.every(pooling, poolEvery == null ? 2 : poolEvery));
    }
    return b.build();
  }

  /**
   * {@code --activation}, else the default: leaky_relu for a TAT-shaped build (TAT shapes the
   * ReLU family as leaky ReLU; plain relu has no slope to solve for), relu otherwise.
   */
  String activationOrDefault() {
    if (activation != null) {
      return activation;
    }
    return shaped && method == Method.TAT ? "leaky_relu" : "relu";
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }

  /** {@code parser} applied to {@code value}; IllegalArgumentException becomes a conversion error. */
  private static <T> T parse(Function<String, T> parser, String value) {
    try {
      return parser.apply(value);
    } catch (IllegalArgumentException e) {
      throw new TypeConversionException(e.getMessage());
    }
  }

  /** Parses {@code --arch}. */
  static final class ArchConverter implements ITypeConverter<Architecture> {
    @Override
    public Architecture convert(String value) {
      return parse(Architecture::parse, value);
    }
  }

  /** Parses {@code --input HxWxC}. */
  static final class InputConverter implements ITypeConverter<InputShape> {
    @Override
    public InputShape convert(String value) {
      return parse(InputShape::parse, value);
    }
  }

  /** Parses {@code --pooling}. */
  static final class PoolingConverter implements ITypeConverter<Pooling.Kind> {
    @Override
    public Pooling.Kind convert(String value) {
      return parse(Pooling.Kind::parse, value);
    }
  }

  /** Parses {@code --stem}. */
  static final class StemConverter implements ITypeConverter<ArchitectureSpec.Stem> {
    @Override
    public ArchitectureSpec.Stem convert(String value) {
      return switch (value.trim().toLowerCase(Locale.ROOT)) {
        case "auto" -> ArchitectureSpec.Stem.AUTO;
        case "small" -> ArchitectureSpec.Stem.SMALL;
        case "imagenet" -> ArchitectureSpec.Stem.IMAGENET;
        default -> throw new TypeConversionException("unknown stem '" + value
            + "': use auto, small or imagenet");
      };
    }
  }
}
