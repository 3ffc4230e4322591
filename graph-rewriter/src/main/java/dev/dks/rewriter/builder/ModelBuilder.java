package dev.dks.rewriter.builder;

import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorSpec;
import dev.dks.solver.activation.Activation;
import dev.dks.solver.network.NetworkMaps;
import dev.dks.solver.network.ResNetConfig;
import dev.dks.solver.network.Structure;
import dev.dks.solver.solve.Method;
import dev.dks.solver.solve.ShapingSolution;
import dev.dks.solver.solve.ShapingSolver;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import org.tensorflow.proto.DataType;

/**
 * Builds MLPs, plain CNNs and ResNets v1/v2 as TF1 GraphDefs at NodeDef level (no TF Java ops):
 * float32, NHWC, weights in {@code VariableV2} nodes read through {@code name/read} Identities,
 * the initial weights in {@link Model#variables()}.
 *
 * <p><b>Graph</b>: Placeholder {@code input} {@code [-1, H, W, C]}; layers as listed below;
 * dense logits layer {@code head} ({@code MatMul} + {@code BiasAdd}); Identity {@code logits}
 * {@code [-1, classes]}; signature {@code serving_default} (method {@code
 * tensorflow/serving/predict}, input {@code input}, output {@code logits}). Convs are {@code
 * Conv2D} with SAME padding and HWIO kernels; every node carries the op registry's default
 * attributes.
 *
 * <ul>
 *   <li><b>MLP</b>: Reshape to {@code [-1, H*W*C]}, then {@code depth} x (dense, [BN], activation)
 *       named {@code dense_i}, {@code dense_i/bn}, {@code dense_i/act}. BN on a rank-2 tensor is
 *       emitted as Reshape to {@code [-1, 1, 1, width]}, FusedBatchNormV3, Reshape back.
 *   <li><b>Plain CNN</b>: {@code depth} x (conv 3x3 {@code conv_i}, [BN {@code conv_i/bn}],
 *       activation {@code conv_i/act}, [pool {@code conv_i/pool}]); the first conv maps C to the
 *       width; then global average pooling ({@code Mean} over axes 1, 2) {@code global_pool}.
 *   <li><b>ResNet</b> (He et al. 2016, layouts of {@link ResNetConfig}): stem conv {@code
 *       stem/conv} 7x7/2 + max-pool 3x3/2 {@code stem/max_pool}, or 3x3/1 and no max-pool for
 *       small inputs; v1 adds {@code stem/bn} and {@code stem/act}. Blocks {@code
 *       group_g/block_j}: basic (3x3, 3x3) or bottleneck (1x1, 3x3, 1x1, outputs 4x) convs {@code
 *       conv_k}; stride 2 at the first block of groups 1-3 (on the first conv of basic blocks, the
 *       3x3 of bottlenecks); projection shortcuts {@code shortcut} (1x1 conv, same stride) where
 *       {@link ResNetConfig#projection()} says. v1: conv_k, [bn_k], act_k (none after the last
 *       conv), merge, {@code out_act}. v2 (pre-activation): [bn_k], act_k, conv_k; the projection
 *       reads the pre-activated input {@code act_0}, the identity shortcut the block input; after
 *       the last block [{@code final/bn}], {@code final/act}. Widths: base w (stem and group 0), 2w,
 *       4w, 8w. Merges {@code merge}: AddV2, or with a shortcut weight the normalized sum {@code
 *       w * shortcut + sqrt(1 - w^2) * residual} (Mul by Consts, AddV2), or none when w = 0.
 * </ul>
 *
 * <p><b>Bias and BN</b>: without batch normalization every dense/conv layer has a zero bias
 * (BiasAdd); with it, convs and hidden dense layers have none (BN's beta takes its role) and BN
 * sits where the standard layouts put it. BN is FusedBatchNormV3 in inference form (is_training
 * false, epsilon 1.001e-5) with gamma 1, beta 0, moving mean 0, moving variance 1.
 *
 * <p><b>Initial weights</b> (every build, shaped or not): dense kernels scaled uniform orthogonal
 * (SUO), conv kernels Delta-orthogonal (zero except the centre tap, an SUO matrix), biases zero;
 * weight layer i in emission order uses seed {@code spec.seed() + i}, so a spec always gives the
 * same weights.
 *
 * <p><b>Shaping</b>: the builder records the dks-solver {@link Structure} of what it emits (dense
 * and conv layers affine, activations nonlinear layers, merges normalized sums, pooling and BN not
 * modelled, maximum over the whole network and every distinct residual branch) and, for shaped
 * specs, solves {@link ShapingSolver#solve} for that structure; every activation gets the same
 * parameters and is emitted by {@code ActivationEmitter}. For plain nets the structure is
 * equivalent to {@code Architectures.plainChain(depth)}, for ResNets to {@code
 * Architectures.resnet(depth, w, v2)}.
 */
public final class ModelBuilder {
  /** Name of the input placeholder. */
  public static final String INPUT = "input";
  /** Name of the output node. */
  public static final String OUTPUT = "logits";

  private final ArchitectureSpec spec;
  private final NetEmitter e;
  private final boolean bn;

  private ModelBuilder(ArchitectureSpec spec) {
    this.spec = spec;
    this.e = new NetEmitter(spec.seed());
    this.bn = spec.batchNorm();
  }

  /**
   * Builds the model {@code spec} describes.
   *
   * @throws dev.dks.solver.solve.ShapingException when a shaped build's solve fails (e.g. TAT
   *     with relu)
   */
  public static BuiltModel build(ArchitectureSpec spec) {
    return new ModelBuilder(spec).run();
  }

  private BuiltModel run() {
    TensorName x = e.placeholder(INPUT, spec.input().batchShape());
    TensorName features;
    long featureWidth;
    switch (spec.arch()) {
      case MLP -> {
        features = mlp(x);
        featureWidth = spec.width();
      }
      case PLAIN_CNN -> {
        features = plainCnn(x);
        featureWidth = spec.width();
      }
      case RESNET -> {
        ResNetConfig cfg = ResNetConfig.of(spec.depth());
        features = resnet(x, cfg);
        featureWidth = (long) spec.width() * 8 * (cfg.bottleneck() ? 4 : 1);
      }
      default -> throw new IllegalStateException("unknown architecture " + spec.arch());
    }
    TensorName head = e.dense("head", features, featureWidth, spec.classes(), true);
    TensorName out = e.identity(OUTPUT, head);
    Structure structure = e.finishStructure(out);

    Activation act = spec.activationFunction();
    Method method = spec.shaped() ? spec.method() : Method.UNTRANSFORMED;
    ShapingSolution solution = ShapingSolver.solve(method, List.of(act),
        NetworkMaps.of(structure), spec.dksTargets(), spec.tatTargets());
    e.resolveActivations(act, spec.shaped() ? solution.get(act.id()).params() : null);

    Signature sig = new Signature(Signature.SERVING_DEFAULT, Signature.PREDICT_METHOD,
        Map.of("input", new TensorSpec(x, DataType.DT_FLOAT, spec.input().batchShape())),
        Map.of("logits", new TensorSpec(out, DataType.DT_FLOAT,
            new long[] {-1, spec.classes()})));
    Model model = new Model(e.graphDef(), e.variables(), List.of(sig));
    return new BuiltModel(model, structure, e.layers(), spec, solution);
  }

  private TensorName mlp(TensorName x) {
    long in = spec.input().size();
    TensorName h = e.reshape("flatten", x, new long[] {-1, in});
    for (int i = 0; i < spec.depth(); i++) {
      String s = "dense_" + i;
      e.structure().anchor(h); // commit the path so far: keeps recording linear in depth
      h = e.dense(s, h, in, spec.width(), !bn);
      if (bn) {
        h = e.batchNorm(s + "/bn", h, spec.width(), true);
      }
      h = e.activation(s + "/act", h);
      in = spec.width();
    }
    return h;
  }

  private TensorName plainCnn(TensorName x) {
    Pooling pooling = spec.pooling();
    TensorName h = x;
    long c = spec.input().channels();
    for (int i = 0; i < spec.depth(); i++) {
      String s = "conv_" + i;
      e.structure().anchor(h); // commit the path so far: keeps recording linear in depth
      boolean strided = pooling.kind() == Pooling.Kind.STRIDED_CONV && i > 0
          && pooling.after(i - 1, spec.depth());
      h = e.conv(s, h, 3, c, spec.width(), strided ? 2 : 1, !bn);
      c = spec.width();
      if (bn) {
        h = e.batchNorm(s + "/bn", h, c, false);
      }
      h = e.activation(s + "/act", h);
      if (pooling.after(i, spec.depth())) {
        if (pooling.kind() == Pooling.Kind.AVG_POOL) {
          h = e.pool("AvgPool", s + "/pool", h, 2, 2);
        } else if (pooling.kind() == Pooling.Kind.MAX_POOL) {
          h = e.pool("MaxPool", s + "/pool", h, 2, 2);
        }
      }
    }
    return e.globalMean("global_pool", h);
  }

  private TensorName resnet(TensorName x, ResNetConfig cfg) {
    boolean small = spec.smallInputStem();
    boolean v2 = spec.resnetV2();
    int base = spec.width();
    TensorName h = e.conv("stem/conv", x, small ? 3 : 7, spec.input().channels(), base,
        small ? 1 : 2, !bn);
    if (!v2) {
      if (bn) {
        h = e.batchNorm("stem/bn", h, base, false);
      }
      h = e.activation("stem/act", h);
    }
    if (!small) {
      h = e.pool("MaxPool", "stem/max_pool", h, 3, 2);
    }
    long c = base;
    for (int g = 0; g < cfg.blocksPerGroup().length; g++) {
      long inner = (long) base << g;
      long out = cfg.bottleneck() ? 4 * inner : inner;
      for (int j = 0; j < cfg.blocksPerGroup()[g]; j++) {
        int stride = g > 0 && j == 0 ? 2 : 1;
        boolean projection = j == 0 && cfg.projection()[g];
        if (!projection && (c != out || stride != 1)) {
          throw new IllegalStateException("ResNet-" + cfg.depth() + " group " + g + " block " + j
              + " changes shape without a projection shortcut");
        }
        String s = "group_" + g + "/block_" + j;
        h = v2 ? blockV2(s, h, c, inner, out, stride, projection, cfg.bottleneck())
            : blockV1(s, h, c, inner, out, stride, projection, cfg.bottleneck());
        c = out;
      }
    }
    if (v2) {
      if (bn) {
        h = e.batchNorm("final/bn", h, c, false);
      }
      h = e.activation("final/act", h);
    }
    return e.globalMean("global_pool", h);
  }

  /** v1: conv, [bn], act ... conv, [bn]; merge; act. */
  private TensorName blockV1(String s, TensorName x, long c, long inner, long out, int stride,
      boolean projection, boolean bottleneck) {
    e.structure().anchor(x);
    long[][] convs = convPlan(c, inner, out, stride, bottleneck);
    TensorName r = x;
    for (int k = 0; k < convs.length; k++) {
      r = e.conv(s + "/conv_" + k, r, (int) convs[k][0], convs[k][1], convs[k][2],
          (int) convs[k][3], !bn);
      if (bn) {
        r = e.batchNorm(s + "/bn_" + k, r, convs[k][2], false);
      }
      if (k < convs.length - 1) {
        r = e.activation(s + "/act_" + k, r);
      }
    }
    e.structure().candidate(r);
    TensorName merged = merge(s, x, r, projection, c, out, stride, true);
    return e.activation(s + "/out_act", merged);
  }

  /** v2: [bn], act, conv, ...; merge (projection of the pre-activation, or identity). */
  private TensorName blockV2(String s, TensorName x, long c, long inner, long out, int stride,
      boolean projection, boolean bottleneck) {
    e.structure().anchor(x);
    long[][] convs = convPlan(c, inner, out, stride, bottleneck);
    TensorName r = x;
    TensorName preact = null;
    for (int k = 0; k < convs.length; k++) {
      if (bn) {
        r = e.batchNorm(s + "/bn_" + k, r, convs[k][1], false);
      }
      r = e.activation(s + "/act_" + k, r);
      if (k == 0) {
        preact = r;
      }
      r = e.conv(s + "/conv_" + k, r, (int) convs[k][0], convs[k][1], convs[k][2],
          (int) convs[k][3], !bn);
    }
    e.structure().candidate(r);
    return merge(s, projection ? preact : x, r, projection, c, out, stride, false);
  }

  /**
   * The merge of a block: the shortcut (identity or 1x1 projection of {@code shortcutIn}, with BN
   * in v1) with the residual {@code r}; no shortcut at all when the shortcut weight is 0.
   */
  private TensorName merge(String s, TensorName shortcutIn, TensorName r, boolean projection,
      long c, long out, int stride, boolean bnOnProjection) {
    OptionalDouble w = spec.effectiveShortcutWeight();
    if (w.isPresent() && w.getAsDouble() == 0.0) {
      return r; // w = 0: the shortcut branch is dropped, the block is a plain chain
    }
    TensorName sc = shortcutIn;
    if (projection) {
      sc = e.conv(s + "/shortcut", sc, 1, c, out, stride, !bn);
      if (bn && bnOnProjection) {
        sc = e.batchNorm(s + "/shortcut_bn", sc, out, false);
      }
    }
    return w.isPresent() ? e.normalizedSum(s + "/merge", sc, r, w.getAsDouble())
        : e.plainSum(s + "/merge", sc, r);
  }

  /**
   * Per conv of a block: {kernel, in, out, stride}. Basic: 3x3 (stride) c to inner, 3x3 inner to
   * out. Bottleneck: 1x1 c to inner, 3x3 (stride) inner to inner, 1x1 inner to out.
   */
  private static long[][] convPlan(long c, long inner, long out, int stride, boolean bottleneck) {
    if (bottleneck) {
      return new long[][] {{1, c, inner, 1}, {3, inner, inner, stride}, {1, inner, out, 1}};
    }
    return new long[][] {{3, c, inner, stride}, {3, inner, out, 1}};
  }
}
