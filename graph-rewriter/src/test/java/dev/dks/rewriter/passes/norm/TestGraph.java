package dev.dks.rewriter.passes.norm;

import com.google.protobuf.ByteString;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.model.TensorSpec;
import dev.dks.rewriter.pipeline.RewriteContext;
import dev.dks.rewriter.pipeline.StructuralVerifier;
import dev.dks.rewriter.pipeline.TensorFlowVerifier;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Test helper: builds small float32 graphs node by node (with {@link Nodes}) together with the
 * values of their {@code VariableV2}s, and runs them through {@link ModelSession}.
 */
public final class TestGraph {
  private final GraphDef.Builder g = GraphDef.newBuilder();
  private final Map<String, TensorProto> vars = new LinkedHashMap<>();
  private final Random rng;

  /** A graph whose random values come from {@code seed}. */
  public TestGraph(long seed) {
    rng = new Random(seed);
  }

  /** Adds a node. */
  public String add(NodeDef n) {
    g.addNode(n);
    return n.getName();
  }

  /** A float32 Placeholder of this shape (-1 = unknown). */
  public String placeholder(String name, long... shape) {
    return add(Nodes.op("Placeholder", name).type("dtype", DataType.DT_FLOAT)
        .attr("shape", shape(shape)).build());
  }

  /** A VariableV2 holding {@code values}. */
  public String variable(String name, long[] shape, float[] values) {
    vars.put(name, TensorProtos.ofFloats(shape, values));
    return add(Nodes.op("VariableV2", name).type("dtype", DataType.DT_FLOAT)
        .attr("shape", shape(shape)).attr("container", "").attr("shared_name", "").build());
  }

  /** A VariableV2 with values {@code offset + scale * N(0,1)}. */
  public String normalVariable(String name, double offset, double scale, long... shape) {
    return variable(name, shape, normal(count(shape), offset, scale));
  }

  /** A VariableV2 with values uniform in [lo, hi). */
  public String uniformVariable(String name, double lo, double hi, long... shape) {
    return variable(name, shape, uniform(count(shape), lo, hi));
  }

  /** A float32 Const. */
  public String constant(String name, long[] shape, float[] values) {
    return add(Nodes.constant(name, TensorProtos.ofFloats(shape, values)));
  }

  /** A float32 Const with values uniform in [lo, hi). */
  public String uniformConst(String name, double lo, double hi, long... shape) {
    return constant(name, shape, uniform(count(shape), lo, hi));
  }

  /** A float32 Const with values {@code offset + scale * N(0,1)}. */
  public String normalConst(String name, double offset, double scale, long... shape) {
    return constant(name, shape, normal(count(shape), offset, scale));
  }

  /** A float32 scalar Const. */
  public String scalar(String name, float v) {
    return add(Nodes.floatScalar(name, v));
  }

  /** An int32 vector Const. */
  public String ints(String name, int... v) {
    TensorProto.Builder t = TensorProto.newBuilder().setDtype(DataType.DT_INT32)
        .setTensorShape(TensorProtos.shapeProto(new long[] {v.length}));
    for (int x : v) {
      t.addIntVal(x);
    }
    return add(Nodes.constant(name, t.build()));
  }

  /** A float32 op with {@code T=float}. */
  public String op(String op, String name, String... inputs) {
    Nodes.Builder b = Nodes.op(op, name).type("T", DataType.DT_FLOAT);
    for (String in : inputs) {
      b.input(in);
    }
    return add(b.build());
  }

  /** A Mean over int32 axes with keep_dims. */
  public String mean(String name, String x, String axes) {
    return add(Nodes.op("Mean", name).input(x).input(axes).type("T", DataType.DT_FLOAT)
        .type("Tidx", DataType.DT_INT32)
        .attr("keep_dims", AttrValue.newBuilder().setB(true).build()).build());
  }

  /** A Reshape to an int32 shape Const. */
  public String reshape(String name, String x, String shape) {
    return add(Nodes.op("Reshape", name).input(x).input(shape).type("T", DataType.DT_FLOAT)
        .type("Tshape", DataType.DT_INT32).build());
  }

  /** Conv2D, stride 1, SAME padding, NHWC. */
  public String conv(String name, String x, String kernel) {
    return add(Nodes.op("Conv2D", name).input(x).input(kernel).type("T", DataType.DT_FLOAT)
        .attr("strides", ints(1, 1, 1, 1)).attr("padding", "SAME").build());
  }

  /** DepthwiseConv2dNative, stride 1, SAME padding, NHWC. */
  public String depthwise(String name, String x, String kernel) {
    return add(Nodes.op("DepthwiseConv2dNative", name).input(x).input(kernel)
        .type("T", DataType.DT_FLOAT).attr("strides", ints(1, 1, 1, 1)).attr("padding", "SAME")
        .build());
  }

  /** A FusedBatchNorm (v1), V2 or V3 node with the given epsilon and form. */
  public String fusedBatchNorm(String op, String name, String x, String gamma, String beta,
      String mean, String var, float eps, boolean training) {
    Nodes.Builder b = Nodes.op(op, name).input(x).input(gamma).input(beta).input(mean)
        .input(var).type("T", DataType.DT_FLOAT).attr("epsilon", eps)
        .attr("is_training", AttrValue.newBuilder().setB(training).build());
    if (!op.equals("FusedBatchNorm")) {
      b.type("U", DataType.DT_FLOAT);
    }
    return add(b.build());
  }

  /** The GraphDef built so far. */
  public GraphDef graph() {
    return g.build();
  }

  /** The variable values so far. */
  public Map<String, TensorProto> variables() {
    return vars;
  }

  /** A model with one input and one output (serving_default). */
  public Model model(String input, long[] inShape, String output) {
    return model(graph(), vars, input, inShape, output);
  }

  /** A model around any GraphDef. */
  public static Model model(GraphDef graph, Map<String, TensorProto> vars, String input,
      long[] inShape, String output) {
    return new Model(graph, vars, List.of(new Signature(Signature.SERVING_DEFAULT,
        Signature.PREDICT_METHOD,
        Map.of("x", new TensorSpec(TensorName.parse(input), DataType.DT_FLOAT, inShape)),
        Map.of("y", new TensorSpec(TensorName.parse(output), DataType.DT_FLOAT, null)))));
  }

  /** Random input values for a shape. */
  public TensorProto randomInput(long... shape) {
    return TensorProtos.ofFloats(shape, normal(count(shape), 0, 1));
  }

  /** Runs a model: feeds {@code input}, returns the values of {@code fetch}. */
  public static float[] run(Model m, String input, TensorProto x, String fetch) {
    try (ModelSession s = new ModelSession(m)) {
      return TensorProtos.floats(s.run(Map.of(input, x), List.of(fetch)).get(fetch));
    }
  }

  /** Largest absolute elementwise difference. */
  public static double maxAbsDiff(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new AssertionError("lengths differ: " + a.length + " vs " + b.length);
    }
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs((double) a[i] - b[i]));
    }
    return m;
  }

  /** Largest absolute value. */
  public static double maxAbs(float[] a) {
    double m = 0;
    for (float v : a) {
      m = Math.max(m, Math.abs(v));
    }
    return m;
  }

  /** Op histogram of a graph. */
  public static Map<String, Integer> ops(GraphDef g) {
    Map<String, Integer> h = new TreeMap<>();
    g.getNodeList().forEach(n -> h.merge(n.getOp(), 1, Integer::sum));
    return h;
  }

  /** True when the graph has a node of any of these ops. */
  public static boolean hasAny(GraphDef g, Set<String> ops) {
    return g.getNodeList().stream().anyMatch(n -> ops.contains(n.getOp()));
  }

  /** Runs the structural verifier and the TensorFlow verifier with gradients on a model. */
  public static void verifyAccepted(Model m) {
    RewriteContext ctx = new RewriteContext(GraphView.of(m.graph()), m.variables(),
        m.outputNodes());
    new StructuralVerifier().verify(ctx, "test");
    new TensorFlowVerifier(true).verify(ctx, "test");
  }

  private float[] normal(int n, double offset, double scale) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (offset + scale * rng.nextGaussian());
    }
    return v;
  }

  private float[] uniform(int n, double lo, double hi) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (lo + (hi - lo) * rng.nextDouble());
    }
    return v;
  }

  private static int count(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return Math.toIntExact(n);
  }

  /** A shape attribute. */
  public static AttrValue shape(long... dims) {
    TensorShapeProto.Builder b = TensorShapeProto.newBuilder();
    for (long d : dims) {
      b.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
    }
    return AttrValue.newBuilder().setShape(b).build();
  }

  /** An int list attribute. */
  public static AttrValue ints(long... v) {
    AttrValue.ListValue.Builder b = AttrValue.ListValue.newBuilder();
    for (long x : v) {
      b.addI(x);
    }
    return AttrValue.newBuilder().setList(b).build();
  }

  /** A string list attribute. */
  public static AttrValue strings(String... v) {
    AttrValue.ListValue.Builder b = AttrValue.ListValue.newBuilder();
    for (String x : v) {
      b.addS(ByteString.copyFromUtf8(x));
    }
    return AttrValue.newBuilder().setList(b).build();
  }
}
