package dev.dks.rewriter.builder;

import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.network.ResNetConfig;
import dev.dks.solver.solve.DksTargets;
import dev.dks.solver.solve.Method;
import dev.dks.solver.solve.TatTargets;
import java.util.Objects;
import java.util.OptionalDouble;

/**
 * What {@link ModelBuilder} should build. Create it with {@link #builder(Architecture, int)}:
 *
 * <pre>{@code
 * ArchitectureSpec spec = ArchitectureSpec.builder(Architecture.RESNET, 50)
 *     .width(8).input("32x32x3").shaped(Method.TAT).activation("leaky_relu")
 *     .shortcutWeight(0.5).build();
 * }</pre>
 *
 * <p><b>Defaults</b>: width 256 (MLP) or 64 (conv nets; for ResNets the base width of the stem and
 * the first group, doubled per group, bottleneck outputs 4x); no batch normalization; activation
 * {@code relu}; input 28x28x1 (NHWC, placeholder {@code [-1, H, W, C]}); 10 classes; ResNet v2
 * (pre-activation); stem chosen automatically (3x3/1 conv without max-pool when min(H, W) &lt; 64,
 * else the ImageNet 7x7/2 conv + 3x3/2 max-pool); not shaped; DKS and TAT targets at their
 * defaults (zeta 1.5; eta 0.9 by the auto rule, lowered to the largest C(0) a network reaches
 * when that is less, tau 0.3); no pooling in plain CNNs; seed 0.
 *
 * <p><b>Shortcut weight</b> (ResNets only): when given, every residual merge is the normalized
 * sum {@code sqrt(1 - w^2) * residual + w * shortcut}, and w = 0 drops the shortcut branch
 * altogether. When absent, shaped ResNets use w = 0 (no skips, as in the TAT paper's main
 * experiments) and unshaped ResNets the standard unnormalized {@code AddV2}.
 *
 * <p>Validation happens here: shaped builds refuse batch normalization (DKS/TAT replace it,
 * dks-math.md section 10), ResNet depths must be one of {@link ResNetConfig#DEPTHS}, the
 * activation must be known to {@link Activations#byName}, and options that apply to one family
 * only (shortcut weight, stem, pooling) are refused elsewhere.
 *
 * @param arch the architecture family
 * @param depth MLP / plain CNN: number of hidden dense or conv layers with activation (&gt;= 1);
 *     ResNet: 18, 34, 50, 101, 152 or 200
 * @param width hidden width (MLP, plain CNN) or base width (ResNet), &gt;= 1
 * @param batchNorm whether to put FusedBatchNormV3 (inference form) after convs, as in the standard
 *     layouts; convs then have no bias
 * @param activation the activation's name ({@code relu}, {@code tanh}, {@code leaky_relu}, ...)
 * @param input one example's shape, HWC
 * @param classes number of logits, &gt;= 1
 * @param resnetV2 ResNet: true for v2 (pre-activation), false for v1; ignored otherwise
 * @param stem ResNet stem choice; must be AUTO for other families
 * @param shaped whether the activations are DKS/TAT-transformed at build time
 * @param method DKS or TAT when shaped; UNTRANSFORMED otherwise
 * @param dksTargets targets of a DKS solve
 * @param tatTargets targets of a TAT solve
 * @param shortcutWeight ResNet shortcut weight w in [0, 1], empty for the default (see above)
 * @param pooling plain CNN down-sampling; must be NONE for other families
 * @param seed base seed: weight layer i (0-based, in emission order) is sampled with seed + i
 */
public record ArchitectureSpec(
    Architecture arch,
    int depth,
    int width,
    boolean batchNorm,
    String activation,
    InputShape input,
    int classes,
    boolean resnetV2,
    Stem stem,
    boolean shaped,
    Method method,
    DksTargets dksTargets,
    TatTargets tatTargets,
    OptionalDouble shortcutWeight,
    Pooling pooling,
    long seed) {

  /** The ResNet stem. */
  public enum Stem {
    /** SMALL when min(H, W) &lt; 64, else IMAGENET. */
    AUTO,
    /** 3x3 stride-1 conv, no max-pool (CIFAR/MNIST-sized inputs). */
    SMALL,
    /** 7x7 stride-2 conv and a 3x3 stride-2 SAME max-pool. */
    IMAGENET
  }

  /** Validates the combination (see the class comment). */
  public ArchitectureSpec {
    Objects.requireNonNull(arch, "arch");
    Objects.requireNonNull(activation, "activation");
    Objects.requireNonNull(input, "input");
    Objects.requireNonNull(stem, "stem");
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(dksTargets, "dksTargets");
    Objects.requireNonNull(tatTargets, "tatTargets");
    Objects.requireNonNull(shortcutWeight, "shortcutWeight");
    Objects.requireNonNull(pooling, "pooling");
    if (arch == Architecture.RESNET) {
      ResNetConfig.of(depth); // throws IllegalArgumentException naming the supported depths
    } else if (depth < 1) {
      throw new IllegalArgumentException("depth must be >= 1 layer, got " + depth);
    }
    if (width < 1) {
      throw new IllegalArgumentException("width must be >= 1, got " + width);
    }
    if (classes < 1) {
      throw new IllegalArgumentException("classes must be >= 1, got " + classes);
    }
    Activations.byName(activation); // throws UnknownActivationException (an IAE) listing names
    if (shaped) {
      if (method == Method.UNTRANSFORMED) {
        throw new IllegalArgumentException("a shaped build needs method DKS or TAT, got "
            + method);
      }
      if (batchNorm) {
        throw new IllegalArgumentException("a shaped (DKS/TAT) build cannot have batch "
            + "normalization: DKS/TAT replace it (normalization is incompatible with the kernel "
            + "analysis); drop batch normalization or build unshaped");
      }
    } else if (method != Method.UNTRANSFORMED) {
      throw new IllegalArgumentException("method " + method + " applies to shaped builds only: "
          + "set shaped, or leave the method UNTRANSFORMED");
    }
    if (shortcutWeight.isPresent()) {
      double w = shortcutWeight.getAsDouble();
      if (arch != Architecture.RESNET) {
        throw new IllegalArgumentException("a shortcut weight applies to ResNets only, not "
            + arch.cliName());
      }
      if (!(w >= 0 && w <= 1)) {
        throw new IllegalArgumentException("the shortcut weight must be in [0, 1] (0 removes "
            + "the skips), got " + w);
      }
    }
    if (stem != Stem.AUTO && arch != Architecture.RESNET) {
      throw new IllegalArgumentException("a stem choice applies to ResNets only, not "
          + arch.cliName());
    }
    if (pooling.kind() != Pooling.Kind.NONE && arch != Architecture.PLAIN_CNN) {
      throw new IllegalArgumentException("pooling options apply to plain CNNs only, not "
          + arch.cliName() + " (ResNets down-sample with stride-2 convs at group starts)");
    }
  }

  /** A builder with every default (see the class comment). */
  public static Builder builder(Architecture arch, int depth) {
    return new Builder(arch, depth);
  }

  /** The activation function named by {@link #activation()}. */
  public Activation activationFunction() {
    return Activations.byName(activation);
  }

  /** ResNet: whether the 3x3/1 stem without max-pool is used. */
  public boolean smallInputStem() {
    return switch (stem) {
      case SMALL -> true;
      case IMAGENET -> false;
      case AUTO -> Math.min(input.height(), input.width()) < 64;
    };
  }

  /**
   * The shortcut weight the builder uses: the given one, 0 for shaped ResNets without one, empty
   * (unnormalized AddV2) for unshaped ResNets without one and for other families.
   */
  public OptionalDouble effectiveShortcutWeight() {
    if (shortcutWeight.isPresent() || arch != Architecture.RESNET) {
      return shortcutWeight;
    }
    return shaped ? OptionalDouble.of(0.0) : OptionalDouble.empty();
  }

  /** A one-line description, e.g. {@code resnet-18 v2, width 8, 32x32x3 -> 10, bn, relu}. */
  public String describe() {
    StringBuilder sb = new StringBuilder(arch.cliName()).append('-').append(depth);
    if (arch == Architecture.RESNET) {
      sb.append(resnetV2 ? " v2" : " v1");
    }
    sb.append(", width ").append(width).append(", ").append(input).append(" -> ").append(classes)
        .append(batchNorm ? ", bn" : "").append(", ").append(activation);
    if (shaped) {
      sb.append(", shaped by ").append(method);
    }
    effectiveShortcutWeight().ifPresent(w -> sb.append(", shortcut weight ").append(w));
    if (pooling.kind() != Pooling.Kind.NONE) {
      sb.append(", ").append(pooling.kind().cliName()).append(" every ")
          .append(pooling.every());
    }
    return sb.toString();
  }

  /** Fluent builder of an {@link ArchitectureSpec}; {@link #build()} validates. */
  public static final class Builder {
    private final Architecture arch;
    private final int depth;
    private Integer width;
    private boolean batchNorm;
    private String activation = "relu";
    private InputShape input = InputShape.DEFAULT;
    private int classes = 10;
    private boolean resnetV2 = true;
    private Stem stem = Stem.AUTO;
    private boolean shaped;
    private Method method = Method.UNTRANSFORMED;
    private DksTargets dksTargets = DksTargets.defaults();
    private TatTargets tatTargets = TatTargets.autoEta(TatTargets.DEFAULT_TAU);
    private OptionalDouble shortcutWeight = OptionalDouble.empty();
    private Pooling pooling = Pooling.NONE;
    private long seed;

    private Builder(Architecture arch, int depth) {
      this.arch = Objects.requireNonNull(arch, "arch");
      this.depth = depth;
    }

    /** Hidden width (MLP, plain CNN) or base width (ResNet). */
    public Builder width(int width) {
      this.width = width;
      return this;
    }

    /** Inference-form FusedBatchNormV3 after convs (the standard layouts). */
    public Builder batchNorm(boolean batchNorm) {
      this.batchNorm = batchNorm;
      return this;
    }

    /** The activation's name (default relu). */
    public Builder activation(String activation) {
      this.activation = activation;
      return this;
    }

    /** One example's shape (default 28x28x1). */
    public Builder input(InputShape input) {
      this.input = input;
      return this;
    }

    /** One example's shape as {@code HxWxC}. */
    public Builder input(String hwc) {
      this.input = InputShape.parse(hwc);
      return this;
    }

    /** Number of logits (default 10). */
    public Builder classes(int classes) {
      this.classes = classes;
      return this;
    }

    /** ResNet v2 (true, default) or v1 (false). */
    public Builder resnetV2(boolean v2) {
      this.resnetV2 = v2;
      return this;
    }

    /** ResNet stem (default AUTO). */
    public Builder stem(Stem stem) {
      this.stem = stem;
      return this;
    }

    /** ResNet: force the small-input stem (true) or the ImageNet stem (false). */
    public Builder smallInputStem(boolean small) {
      this.stem = small ? Stem.SMALL : Stem.IMAGENET;
      return this;
    }

    /** Shapes the activations by {@code method} (DKS or TAT) at build time. */
    public Builder shaped(Method method) {
      this.shaped = true;
      this.method = method;
      return this;
    }

    /** DKS targets (default zeta 1.5). */
    public Builder dksTargets(DksTargets targets) {
      this.dksTargets = targets;
      return this;
    }

    /**
     * TAT targets (default eta 0.9 by the auto rule, {@link TatTargets#autoEta}: the largest C(0)
     * the network reaches when 0.9 is out of reach; tau 0.3).
     */
    public Builder tatTargets(TatTargets targets) {
      this.tatTargets = targets;
      return this;
    }

    /** ResNet shortcut weight in [0, 1]: normalized sums; 0 drops the skips. */
    public Builder shortcutWeight(double w) {
      this.shortcutWeight = OptionalDouble.of(w);
      return this;
    }

    /** Plain CNN down-sampling (default none). */
    public Builder pooling(Pooling pooling) {
      this.pooling = pooling;
      return this;
    }

    /** Base seed of the weight sampling (default 0). */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** The validated spec. */
    public ArchitectureSpec build() {
      return new ArchitectureSpec(arch, depth, width == null ? arch.defaultWidth() : width,
          batchNorm, activation, input, classes, resnetV2, stem, shaped, method, dksTargets,
          tatTargets, shortcutWeight, pooling, seed);
    }
  }
}
