package dev.dks.benchmarks;

import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.LayerNodes;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.model.TensorSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import org.tensorflow.Graph;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.VersionDef;

/**
 * The graphs {@link RewriteScalingHarness} rewrites, all float32 NHWC with batch normalization
 * (FusedBatchNormV3, inference form), ReLU activations and width 8 so that the weights stay tiny
 * and the cost is the graph's structure:
 *
 * <ul>
 *   <li>{@code chain}: a synthetic residual chain of {@code n} basic blocks (conv 3x3, BN, ReLU,
 *       conv 3x3, BN, AddV2 with the identity shortcut, ReLU; 27 nodes per block) on an 8x8x8
 *       input, global mean and a dense head; built here at NodeDef level with {@link
 *       LayerNodes}, the builder's conventions ({@code VariableV2} read through {@code
 *       name/read}), to any size, its nodes
 *       without the op registry's default attributes (as SavedModels written with {@code
 *       strip_default_attrs}), so that fill-defaults has work to do;
 *   <li>{@code plain-cnn}: {@link ModelBuilder}'s plain CNN with BN (13 nodes per layer), depth
 *       chosen for the node target;
 *   <li>{@code mlp}: the builder's MLP with BN (BN on rank 2 is Reshape, FusedBatchNormV3,
 *       Reshape; 19 nodes per layer), depth chosen for the node target;
 *   <li>{@code resnet}: the builder's ResNet v1 with BN, base width 8, 64x64x3 input (ImageNet
 *       stem with max-pool), depths 50, 101, 152, 200 (about 0.7k to 2.7k nodes).
 * </ul>
 */
final class RewriteGraphs {
  private static final DataType F = DataType.DT_FLOAT;
  /** Width of every hidden layer (channels, units, ResNet base width). */
  static final int WIDTH = 8;

  private RewriteGraphs() {}

  /**
   * One graph to rewrite.
   *
   * @param family chain, plain-cnn, mlp or resnet
   * @param label what was built, e.g. {@code plain-cnn depth 769}
   * @param target the node count aimed at (0 for the fixed ResNet depths)
   * @param build builds the model (called once per case, so graphs do not pile up in memory)
   */
  record Case(String family, String label, int target, Supplier<Model> build) {}

  /** The families, in the order the harness runs them. */
  static final List<String> FAMILIES = List.of("chain", "plain-cnn", "mlp", "resnet");

  /** The ResNet depths measured (the node counts are what they are: about 0.7k to 2.7k). */
  static final int[] RESNET_DEPTHS = {50, 101, 152, 200};

  /** The cases of {@code family} for the node targets (ResNets ignore the targets). */
  static List<Case> cases(String family, int[] targets) {
    List<Case> out = new ArrayList<>();
    switch (family) {
      case "chain" -> {
        for (int t : targets) {
          int blocks = sized(t, RewriteGraphs::chainNodes);
          out.add(new Case(family, "residual chain, " + blocks + " blocks", t,
              () -> residualChain(blocks)));
        }
      }
      case "plain-cnn", "mlp" -> {
        Architecture arch = family.equals("mlp") ? Architecture.MLP : Architecture.PLAIN_CNN;
        IntFunction<Model> build = d -> ModelBuilder.build(ArchitectureSpec.builder(arch, d)
            .width(WIDTH).batchNorm(true).build()).model();
        IntFunction<Integer> nodes = d -> build.apply(d).graph().getNodeCount();
        int a = nodes.apply(1);
        int b = nodes.apply(2) - a;
        for (int t : targets) {
          int depth = Math.max(1, Math.round((t - a + b) / (float) b));
          out.add(new Case(family, family + " depth " + depth, t, () -> build.apply(depth)));
        }
      }
      case "resnet" -> {
        for (int d : RESNET_DEPTHS) {
          out.add(new Case(family, "resnet-" + d + " v1", 0,
              () -> ModelBuilder.build(ArchitectureSpec.builder(Architecture.RESNET, d)
                  .width(WIDTH).batchNorm(true).resnetV2(false).input("64x64x3").build())
                  .model()));
        }
      }
      default -> throw new IllegalArgumentException("unknown family '" + family + "': use "
          + FAMILIES);
    }
    return out;
  }

  /** The size parameter whose node count (linear in it) is closest to {@code target}. */
  private static int sized(int target, IntFunction<Integer> nodes) {
    int a = nodes.apply(1);
    int b = nodes.apply(2) - a;
    return Math.max(1, Math.round((target - a + b) / (float) b));
  }

  private static int chainNodes(int blocks) {
    return 10 + 27 * blocks;
  }

  /**
   * The synthetic residual chain: Placeholder {@code input [-1, 8, 8, 8]}; {@code blocks} x
   * (conv, BN, ReLU, conv, BN, AddV2 with the block input, ReLU); Mean over H, W; dense head;
   * Identity {@code logits}. Signature {@code serving_default}: input to logits.
   */
  static Model residualChain(int blocks) {
    Emitter e = new Emitter();
    long[] inShape = {-1, 8, 8, WIDTH};
    TensorName x = e.add(LayerNodes.placeholder("input", inShape));
    for (int i = 0; i < blocks; i++) {
      String s = "block_" + i;
      TensorName r = e.conv(s + "/conv_0", x);
      r = e.batchNorm(s + "/bn_0", r);
      r = e.unary("Relu", s + "/act_0", r);
      r = e.conv(s + "/conv_1", r);
      r = e.batchNorm(s + "/bn_1", r);
      TensorName sum = e.add(Nodes.op("AddV2", s + "/add").input(x).input(r).type("T", F)
          .build());
      x = e.unary("Relu", s + "/out_act", sum);
    }
    TensorName axes = e.add(Nodes.constant("global_pool/reduction_indices",
        LayerNodes.int32Vector(1, 2)));
    TensorName pooled = e.add(LayerNodes.reduce("Mean", "global_pool/Mean", x, axes, false));
    TensorName k = e.variable("head/kernel", new long[] {WIDTH, 10});
    TensorName h = e.add(Nodes.op("MatMul", "head/MatMul").input(pooled).input(k).type("T", F)
        .build());
    TensorName b = e.variable("head/bias", new long[] {10});
    h = e.add(LayerNodes.biasAdd("head/BiasAdd", h, b));
    TensorName out = e.unary("Identity", "logits", h);
    Signature sig = new Signature(Signature.SERVING_DEFAULT, Signature.PREDICT_METHOD,
        Map.of("input", new TensorSpec(TensorName.of("input"), F, inShape)),
        Map.of("logits", new TensorSpec(out, F, new long[] {-1, 10})));
    return new Model(e.graphDef(), e.variables, List.of(sig));
  }

  /** Emits NodeDefs and variable values in emission (= topological) order. */
  private static final class Emitter {
    final GraphView graph = GraphView.of(GraphDef.getDefaultInstance());
    final Map<String, TensorProto> variables = new LinkedHashMap<>();
    final SplittableRandom random = new SplittableRandom(0);

    TensorName add(NodeDef n) {
      graph.add(n);
      return TensorName.of(n.getName());
    }

    TensorName unary(String op, String name, TensorName x) {
      return add(Nodes.op(op, name).input(x).type("T", F).build());
    }

    TensorName variable(String name, long[] shape) {
      int n = Math.toIntExact(Arrays.stream(shape).reduce(1, (p, q) -> p * q));
      float[] v = new float[n];
      for (int i = 0; i < n; i++) {
        v[i] = (float) (random.nextDouble(-1, 1) / Math.sqrt(n));
      }
      return variable(name, shape, v);
    }

    TensorName variable(String name, long[] shape, float[] values) {
      add(LayerNodes.variable(name, shape));
      variables.put(name, TensorProtos.ofFloats(shape, values));
      return add(LayerNodes.read(name));
    }

    TensorName conv(String scope, TensorName x) {
      TensorName w = variable(scope + "/kernel", new long[] {3, 3, WIDTH, WIDTH});
      return add(LayerNodes.conv2d(scope + "/Conv2D", x, w, new int[] {1, 1}, "SAME").build());
    }

    TensorName batchNorm(String scope, TensorName x) {
      float[] ones = new float[WIDTH];
      Arrays.fill(ones, 1f);
      long[] s = {WIDTH};
      TensorName gamma = variable(scope + "/gamma", s, ones);
      TensorName beta = variable(scope + "/beta", s, new float[WIDTH]);
      TensorName mean = variable(scope + "/moving_mean", s, new float[WIDTH]);
      TensorName var = variable(scope + "/moving_variance", s, ones);
      return add(LayerNodes.fusedBatchNorm(scope + "/FusedBatchNormV3", x, gamma, beta, mean,
          var, 1.001e-5f));
    }

    GraphDef graphDef() {
      return graph.toGraphDef().toBuilder().setVersions(runtimeVersions()).build();
    }
  }

  private static VersionDef runtimeVersions() {
    try (Graph g = new Graph()) {
      return g.toGraphDef().getVersions();
    }
  }
}
