package dev.dks.rewriter.testing;

import dev.dks.rewriter.activation.ActivationEmitter;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.model.TensorSpec;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.init.ScaledUniformOrthogonal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

/** Hand-built dense test networks (width W, float32) written node by node. */
public final class DenseNets {
  public static final int WIDTH = 16;

  private final int width;

  public final GraphView g = GraphView.empty();
  public final Map<String, TensorProto> vars = new LinkedHashMap<>();
  private int layer;

  public DenseNets() {
    this(WIDTH);
  }

  /** A network of the given width. */
  public DenseNets(int width) {
    this.width = width;
    g.add(Nodes.op("Placeholder", "input").type("dtype", DataType.DT_FLOAT).attr("shape",
        AttrValue.newBuilder().setShape(TensorProtos.shapeProto(new long[] {-1, width})).build())
        .build());
  }

  /**
   * A dense stem, one residual block ({@code block/add}: a same-shape AddV2, a skip) and a head
   * ({@code head/add}) that adds a [-1, W] tensor (dense layers after a tanh) to a [-1, 1] one
   * ({@code head/sum}: the block's row sums): a broadcasting add of two paths from the input,
   * which only the static shapes tell from a residual merge.
   */
  public static Model residualBlockAndBroadcastHead() {
    DenseNets n = new DenseNets();
    TensorName h = n.dense(TensorName.of("input"));
    TensorName r = n.act("relu", n.dense(n.act("relu", n.dense(h))));
    TensorName block = n.add("block/add", r, h);
    TensorName a = n.dense(n.act("tanh", n.dense(block)));
    n.g.add(Nodes.constant("head/axis", TensorProto.newBuilder().setDtype(DataType.DT_INT32)
        .addIntVal(1).build()));
    n.g.add(Nodes.op("Sum", "head/sum").input(block).input("head/axis")
        .type("T", DataType.DT_FLOAT).type("Tidx", DataType.DT_INT32)
        .attr("keep_dims", AttrValue.newBuilder().setB(true).build()).build());
    return n.model(n.add("head/add", a, TensorName.of("head/sum")));
  }

  /** MatMul + BiasAdd with fresh variables; returns the BiasAdd output. */
  public TensorName dense(TensorName x) {
    layer++;
    String k = "dense" + layer + "/kernel";
    String b = "dense" + layer + "/bias";
    variable(k, new long[] {width, width},
        new ScaledUniformOrthogonal().sample(new long[] {width, width}, layer).toFloatArray());
    variable(b, new long[] {width}, new float[width]);
    g.add(Nodes.op("MatMul", "dense" + layer + "/MatMul").input(x).input(k)
        .type("T", DataType.DT_FLOAT).build());
    g.add(Nodes.op("BiasAdd", "dense" + layer + "/BiasAdd").input("dense" + layer + "/MatMul")
        .input(b).type("T", DataType.DT_FLOAT).build());
    return TensorName.of("dense" + layer + "/BiasAdd");
  }

  /** MatMul + BiasAdd from {@code in} to {@code out} units with fresh variables. */
  public TensorName dense(TensorName x, int in, int out) {
    layer++;
    String k = "dense" + layer + "/kernel";
    String b = "dense" + layer + "/bias";
    variable(k, new long[] {in, out},
        new ScaledUniformOrthogonal().sample(new long[] {in, out}, layer).toFloatArray());
    variable(b, new long[] {out}, new float[out]);
    g.add(Nodes.op("MatMul", "dense" + layer + "/MatMul").input(x).input(k)
        .type("T", DataType.DT_FLOAT).build());
    g.add(Nodes.op("BiasAdd", "dense" + layer + "/BiasAdd").input("dense" + layer + "/MatMul")
        .input(b).type("T", DataType.DT_FLOAT).build());
    return TensorName.of("dense" + layer + "/BiasAdd");
  }

  public TensorName act(String name, TensorName x) {
    return ActivationEmitter.emit(g, "act" + layer + "_" + g.size(), x, Activations.byName(name),
        DataType.DT_FLOAT);
  }

  public TensorName add(String name, TensorName a, TensorName b) {
    g.add(Nodes.op("AddV2", name).input(a).input(b).type("T", DataType.DT_FLOAT).build());
    return TensorName.of(name);
  }

  /**
   * Sets every bias to N(0, scale^2) values drawn with {@code seed} (the dense layers start with
   * zero biases), so that value tests exercise them.
   */
  public void randomBiases(double scale, long seed) {
    java.util.Random r = new java.util.Random(seed);
    for (Map.Entry<String, TensorProto> e : vars.entrySet()) {
      if (e.getKey().endsWith("/bias")) {
        float[] b = new float[width];
        for (int i = 0; i < width; i++) {
          b[i] = (float) (scale * r.nextGaussian());
        }
        e.setValue(TensorProtos.ofFloats(new long[] {width}, b));
      }
    }
  }

  /** Standard normal inputs [batch, width] drawn with {@code seed}. */
  public static TensorProto gaussianInput(int batch, int width, long seed) {
    java.util.Random r = new java.util.Random(seed);
    float[] x = new float[batch * width];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextGaussian();
    }
    return TensorProtos.ofFloats(new long[] {batch, width}, x);
  }

  /** Runs {@code m} on {@code x} fed to "input"; the values of "output". */
  public static float[] run(Model m, TensorProto x) {
    try (dev.dks.rewriter.model.ModelSession s = new dev.dks.rewriter.model.ModelSession(m)) {
      return TensorProtos.floats(s.run(Map.of("input", x), List.of("output")).get("output"));
    }
  }

  public Model model(TensorName out) {
    g.add(Nodes.op("Identity", "output").input(out).type("T", DataType.DT_FLOAT).build());
    TensorSpec in = new TensorSpec(TensorName.of("input"), DataType.DT_FLOAT,
        new long[] {-1, width});
    TensorSpec o = new TensorSpec(TensorName.of("output"), DataType.DT_FLOAT,
        new long[] {-1, width});
    return new Model(g.toGraphDef(), vars, List.of(new Signature(Signature.SERVING_DEFAULT,
        Signature.PREDICT_METHOD, Map.of("x", in), Map.of("y", o))));
  }

  private void variable(String name, long[] shape, float[] v) {
    g.add(Nodes.op("VariableV2", name).type("dtype", DataType.DT_FLOAT).attr("shape",
        AttrValue.newBuilder().setShape(TensorProtos.shapeProto(shape)).build()).build());
    vars.put(name, TensorProtos.ofFloats(shape, v));
  }
}
