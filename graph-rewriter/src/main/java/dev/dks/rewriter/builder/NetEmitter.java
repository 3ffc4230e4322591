package dev.dks.rewriter.builder;

import dev.dks.rewriter.activation.ActivationEmitter;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.LayerNodes;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.OpRegistry;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.ShapingParams;
import dev.dks.solver.init.ScaledUniformOrthogonal;
import dev.dks.solver.network.Structure;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * Emits layers as NodeDefs into a {@link GraphView} (NHWC, float32, HWIO conv kernels, {@code
 * [in, out]} dense kernels), holds the variables' initial values, the layer list and the {@link
 * StructureRecorder}. Activations are first emitted as marker {@code Identity} nodes and replaced by
 * their real ops in {@link #resolveActivations} once the structure is complete and solved.
 */
final class NetEmitter {
  /** The epsilon of every FusedBatchNormV3 (Keras' default). */
  static final float BN_EPSILON = 1.001e-5f;

  private static final DataType F = DataType.DT_FLOAT;

  private final GraphView graph;
  private final Map<String, TensorProto> variables = new LinkedHashMap<>();
  private final List<LayerInfo> layers = new ArrayList<>();
  private final List<Pending> pending = new ArrayList<>();
  private final ScaledUniformOrthogonal suo = new ScaledUniformOrthogonal();
  private final long seed;
  private StructureRecorder structure;
  private int weightLayers;

  /** An activation waiting for its parameters. */
  private record Pending(String scope, TensorName input, String marker, int layerIndex) {}

  NetEmitter(long seed) {
    this.seed = seed;
    this.graph = GraphView.of(GraphDef.newBuilder().setVersions(OpRegistry.runtimeVersions())
        .build());
  }

  StructureRecorder structure() {
    return structure;
  }

  Map<String, TensorProto> variables() {
    return variables;
  }

  List<LayerInfo> layers() {
    return List.copyOf(layers);
  }

  /** The float32 Placeholder {@code name} of shape {@code shape} (-1 = any). */
  TensorName placeholder(String name, long[] shape) {
    TensorName t = add(LayerNodes.placeholder(name, shape));
    structure = new StructureRecorder(t);
    return t;
  }

  /** Dense layer: MatMul by an SUO {@code [in, out]} kernel, plus a zero bias when asked. */
  TensorName dense(String scope, TensorName x, long in, long out, boolean bias) {
    long[] shape = {in, out};
    List<String> vars = new ArrayList<>();
    TensorName k = variable(scope + "/kernel", shape, sampleKernel(shape), vars);
    TensorName y = add(Nodes.op("MatMul", scope + "/MatMul").input(x).input(k).type("T", F)
        .build());
    if (bias) {
      y = biasAdd(scope, y, out, vars);
    }
    structure.affine(x, y);
    layers.add(new LayerInfo(scope, LayerInfo.Kind.DENSE, vars, y));
    return y;
  }

  /**
   * Conv2D, SAME padding, NHWC, by a Delta-orthogonal HWIO kernel {@code [k, k, in, out]} (k odd),
   * plus a zero bias when asked.
   */
  TensorName conv(String scope, TensorName x, int k, long in, long out, int stride,
      boolean bias) {
    long[] shape = {k, k, in, out};
    List<String> vars = new ArrayList<>();
    TensorName w = variable(scope + "/kernel", shape, sampleKernel(shape), vars);
    TensorName y = add(LayerNodes.conv2d(scope + "/Conv2D", x, w, new int[] {stride, stride},
        "SAME").build());
    if (bias) {
      y = biasAdd(scope, y, out, vars);
    }
    structure.affine(x, y);
    layers.add(new LayerInfo(scope, LayerInfo.Kind.CONV, vars, y));
    return y;
  }

  /**
   * FusedBatchNormV3 in inference form (is_training false, epsilon {@value #BN_EPSILON}) with
   * gamma 1, beta 0, moving mean 0, moving variance 1. A rank-2 input ({@code flat}) is reshaped
   * to {@code [-1, 1, 1, channels]} and back around it.
   */
  TensorName batchNorm(String scope, TensorName x, long channels, boolean flat) {
    List<String> vars = new ArrayList<>();
    float[] ones = new float[Math.toIntExact(channels)];
    Arrays.fill(ones, 1f);
    float[] zeros = new float[ones.length];
    long[] shape = {channels};
    TensorName gamma = variable(scope + "/gamma", shape, ones, vars);
    TensorName beta = variable(scope + "/beta", shape, zeros, vars);
    TensorName mean = variable(scope + "/moving_mean", shape, zeros, vars);
    TensorName var = variable(scope + "/moving_variance", shape, ones, vars);
    TensorName in = flat ? reshape(scope + "/to_4d", x, new long[] {-1, 1, 1, channels}) : x;
    TensorName y = add(LayerNodes.fusedBatchNorm(scope + "/FusedBatchNormV3", in, gamma, beta,
        mean, var, BN_EPSILON));
    structure.same(in, y);
    if (flat) {
      y = reshape(scope + "/to_2d", y, new long[] {-1, channels});
    }
    layers.add(new LayerInfo(scope, LayerInfo.Kind.BATCH_NORM, vars, y));
    return y;
  }

  /** An activation; its ops are emitted by {@link #resolveActivations}. */
  TensorName activation(String scope, TensorName x) {
    String marker = scope + "/pending_activation";
    TensorName m = add(Nodes.op("Identity", marker).input(x).type("T", F).build());
    pending.add(new Pending(scope, x, marker, layers.size()));
    structure.layer(x, m);
    layers.add(new LayerInfo(scope, LayerInfo.Kind.ACTIVATION, List.of(), m));
    return m;
  }

  /** MaxPool or AvgPool {@code k x k}, stride {@code s}, SAME padding, NHWC. */
  TensorName pool(String op, String scope, TensorName x, int k, int s) {
    TensorName y = add(LayerNodes.pool(op, scope + "/" + op, x, new int[] {k, k},
        new int[] {s, s}, "SAME"));
    structure.same(x, y);
    layers.add(new LayerInfo(scope, LayerInfo.Kind.POOL, List.of(), y));
    return y;
  }

  /** Global average pooling: Mean over axes [1, 2] (int32 Const), keep_dims false. */
  TensorName globalMean(String scope, TensorName x) {
    TensorName axes = add(Nodes.constant(scope + "/reduction_indices",
        LayerNodes.int32Vector(1, 2)));
    TensorName y = add(LayerNodes.reduce("Mean", scope + "/Mean", x, axes, false));
    structure.same(x, y);
    layers.add(new LayerInfo(scope, LayerInfo.Kind.POOL, List.of(), y));
    return y;
  }

  /** Reshape to {@code shape} (an int32 Const). */
  TensorName reshape(String scope, TensorName x, long[] shape) {
    TensorName s = add(Nodes.constant(scope + "/shape", LayerNodes.int32Vector(shape)));
    TensorName y = add(LayerNodes.reshape(scope + "/Reshape", x, s));
    structure.same(x, y);
    return y;
  }

  /** The plain residual merge {@code AddV2(shortcut, residual)}. */
  TensorName plainSum(String scope, TensorName shortcut, TensorName residual) {
    TensorName y = add(Nodes.op("AddV2", scope + "/add").input(shortcut).input(residual)
        .type("T", F).build());
    double h = Math.sqrt(0.5);
    structure.sum(new double[] {h, h}, y, shortcut, residual);
    layers.add(new LayerInfo(scope, LayerInfo.Kind.MERGE, List.of(), y));
    return y;
  }

  /**
   * The normalized residual merge {@code w * shortcut + sqrt(1 - w^2) * residual}: two Mul by
   * float Consts ({@code scope/shortcut_weight}, {@code scope/residual_weight}) and an AddV2.
   */
  TensorName normalizedSum(String scope, TensorName shortcut, TensorName residual, double w) {
    double r = Math.sqrt(1 - w * w);
    TensorName ws = add(Nodes.floatScalar(scope + "/shortcut_weight", (float) w));
    TensorName wr = add(Nodes.floatScalar(scope + "/residual_weight", (float) r));
    TensorName s = add(Nodes.op("Mul", scope + "/shortcut_mul").input(shortcut).input(ws)
        .type("T", F).build());
    TensorName t = add(Nodes.op("Mul", scope + "/residual_mul").input(residual).input(wr)
        .type("T", F).build());
    TensorName y = add(Nodes.op("AddV2", scope + "/add").input(s).input(t).type("T", F).build());
    structure.sum(new double[] {w, r}, y, shortcut, residual);
    layers.add(new LayerInfo(scope, LayerInfo.Kind.MERGE, List.of(), y));
    return y;
  }

  /** An Identity named {@code name} (the output node). */
  TensorName identity(String name, TensorName x) {
    TensorName y = add(Nodes.op("Identity", name).input(x).type("T", F).build());
    structure.same(x, y);
    return y;
  }

  /**
   * Replaces every activation marker by the activation's ops: raw when {@code params} is null,
   * else shaped by {@code params}.
   */
  void resolveActivations(Activation base, ShapingParams params) {
    for (Pending p : pending) {
      TensorName out = params == null
          ? ActivationEmitter.emit(graph, p.scope(), p.input(), base, F)
          : ActivationEmitter.emit(graph, p.scope(), p.input(), base, params, F);
      graph.replaceUses(TensorName.of(p.marker()), out, List.of());
      graph.remove(p.marker());
      LayerInfo old = layers.get(p.layerIndex());
      layers.set(p.layerIndex(), new LayerInfo(old.name(), old.kind(), old.variables(), out));
    }
    pending.clear();
  }

  /**
   * The finished graph: every node with the op registry's default attributes filled in, nodes in a
   * topological order (inputs before consumers, otherwise in emission order).
   */
  GraphDef graphDef() {
    if (!pending.isEmpty()) {
      throw new IllegalStateException("builder bug: activations not resolved");
    }
    OpRegistry reg = OpRegistry.get();
    List<NodeDef> nodes = graph.nodes();
    Map<String, NodeDef> byName = new LinkedHashMap<>();
    for (NodeDef n : nodes) {
      byName.put(n.getName(), reg.withDefaults(n));
    }
    List<NodeDef> ordered = new ArrayList<>(nodes.size());
    Set<String> done = new HashSet<>();
    Set<String> open = new HashSet<>();
    for (NodeDef root : byName.values()) {
      // iterative post-order DFS
      Deque<NodeDef> stack = new ArrayDeque<>();
      Deque<Boolean> expanded = new ArrayDeque<>();
      stack.push(root);
      expanded.push(false);
      while (!stack.isEmpty()) {
        NodeDef n = stack.pop();
        boolean exp = expanded.pop();
        if (done.contains(n.getName())) {
          continue;
        }
        if (exp) {
          done.add(n.getName());
          open.remove(n.getName());
          ordered.add(n);
          continue;
        }
        if (!open.add(n.getName())) {
          throw new IllegalStateException("builder bug: cycle through node '" + n.getName() + "'");
        }
        stack.push(n);
        expanded.push(true);
        List<String> ins = n.getInputList();
        for (int i = ins.size() - 1; i >= 0; i--) {
          NodeDef src = byName.get(TensorName.parse(ins.get(i)).node());
          if (src != null && !done.contains(src.getName())) {
            stack.push(src);
            expanded.push(false);
          }
        }
      }
    }
    return GraphDef.newBuilder().addAllNode(ordered).setLibrary(graph.library())
        .setVersions(OpRegistry.runtimeVersions()).build();
  }

  /** Structure from the input to {@code output}. */
  Structure finishStructure(TensorName output) {
    return structure.finish(output);
  }

  private TensorName biasAdd(String scope, TensorName y, long out, List<String> vars) {
    TensorName b = variable(scope + "/bias", new long[] {out},
        new float[Math.toIntExact(out)], vars);
    return add(LayerNodes.biasAdd(scope + "/BiasAdd", y, b));
  }

  /** SUO (dense) or Delta-orthogonal (conv) kernel, seeded by seed + weight-layer index. */
  private float[] sampleKernel(long[] shape) {
    return suo.sample(shape, seed + weightLayers++).toFloatArray();
  }

  /** A VariableV2 with its initial value, read through an Identity {@code name/read}. */
  private TensorName variable(String name, long[] shape, float[] values, List<String> vars) {
    add(LayerNodes.variable(name, shape));
    variables.put(name, TensorProtos.ofFloats(shape, values));
    vars.add(name);
    return add(LayerNodes.read(name));
  }

  private TensorName add(NodeDef n) {
    graph.add(n);
    return TensorName.of(n.getName());
  }
}
