package dev.dks.rewriter.passes.dks;

import dev.dks.rewriter.analysis.InputLayout;
import dev.dks.rewriter.analysis.InputPreprocessing;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.RewriteContext;
import dev.dks.rewriter.pipeline.RewritePass;
import dev.dks.solver.init.HomogeneousMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * "pln": per-location input normalization in front of the network, as standard ops after each
 * float input: optionally a homogeneous coordinate is appended on the last (feature) axis
 * ({@code ONE}: the constant homogScale; {@code AVG_Q}: homogScale times the root mean square of
 * the whole example), then every location is divided by the root mean square of its features, so
 * each location has q = 1 (the specification is {@link
 * dev.dks.solver.init.PerLocationNormalization}, whose Java implementation the tests compare
 * against). A homogeneous coordinate adds an input channel, so every layer reading the input
 * directly (Conv2D or MatMul with a float32 variable or Const kernel) gets one more input row of
 * zeros; when some consumer is not such a layer the pass falls back to {@code OFF} with a note.
 *
 * <p>An int32 or uint8 input (an image) whose only reader is a Cast to float32 is normalized
 * after the Cast, where the float body starts; the signature keeps the integer input. Other
 * non-float inputs are left alone with a note. The model's own constant elementwise
 * preprocessing after the input (or the Cast) stays in front: the normalization goes after it
 * ({@link InputPreprocessing}; mobileface's {@code (x - 127.5) / 128}), so that the first layer
 * reads normalized values whose c is the data's, not about 1 for every pair.
 *
 * <p>A channels-first input (an ONNX model's NCHW image, read by the layers through a
 * Transpose to channels-last: nanodet) is normalized over its channel axis ({@link
 * InputLayout}), without a homogeneous coordinate.
 *
 * <p>A scalar input (declared rank 0, e.g. TF.js's {@code module_with_multiple_signatures}) has
 * no batch axis, which the specification requires, nor a feature axis to normalize over: it is
 * left alone with a note.
 */
public final class InputNormalizationPass implements RewritePass {
  private static final Set<String> WIDENABLE = Set.of("Conv2D", "MatMul");

  private final HomogeneousMode mode;
  private final double homogScale;

  /** A pass with this mode and homogeneous-coordinate scale (1 by default). */
  public InputNormalizationPass(HomogeneousMode mode, double homogScale) {
    this.mode = mode;
    this.homogScale = homogScale;
  }

  @Override
  public String name() {
    return "pln";
  }

  @Override
  public String description() {
    return "per-location input normalization (homogeneous coordinate: " + mode.referenceName()
        + ")";
  }

  @Override
  public PassOutcome run(RewriteContext ctx) {
    GraphView g = ctx.graph();
    List<String> notes = new ArrayList<>();
    int changed = 0;
    for (String input : ctx.inputs()) {
      NodeDef p = g.get(input);
      if (rank(p) == 0) {
        // PerLocationNormalization with a batch axis (the pass's convention) refuses rank 0: a
        // scalar fed whole has no batch, location or feature axis to normalize over
        notes.add("input '" + input + "' is a scalar (rank 0: no batch, location or feature "
            + "axis): per-location normalization does not apply, left alone");
        continue;
      }
      DataType t = p.containsAttr("dtype") ? p.getAttrOrThrow("dtype").getType() : null;
      String in = input;
      if (t != DataType.DT_FLOAT) {
        String cast = floatCast(g, input);
        if (cast == null) {
          notes.add("input '" + input + "' is " + t + ", not float32: not normalized");
          continue;
        }
        in = cast;
        notes.add("input '" + input + "' is " + t + ", cast to float32 by '" + cast + "': "
            + "normalized after the Cast (the signature keeps the " + t + " input)");
      }
      String pre = InputPreprocessing.end(g, in, ctx.outputs());
      if (!pre.equals(in)) {
        notes.add("input '" + input + "' goes through the model's constant elementwise "
            + "preprocessing up to '" + pre + "': normalized after it, where the network starts");
        in = pre;
      }
      List<String> consumers = g.dataConsumers(TensorName.of(in));
      HomogeneousMode m = mode;
      int rank = rank(p);
      int[] layout = InputLayout.toChannelsLast(g, in);
      int axis = -1;
      if (layout != null && rank == layout.length) {
        axis = layout[rank - 1];
        notes.add("input '" + in + "' is channels-first: a Transpose by "
            + java.util.Arrays.toString(layout) + " makes it channels-last for the layers, so "
            + "each location is normalized over axis " + axis + (m != HomogeneousMode.OFF
            ? ", without a homogeneous coordinate (it would go on the last axis)" : ""));
        m = HomogeneousMode.OFF;
      }
      if (m == HomogeneousMode.AVG_Q && rank >= 0 && rank < 3) {
        notes.add("input '" + in + "' has no location axis (rank " + rank + "), so avg_q is "
            + "undefined: the homogeneous coordinate is the constant one instead");
        m = HomogeneousMode.ONE;
      }
      if (m != HomogeneousMode.OFF && !consumers.stream().allMatch(c -> widenable(ctx, c))) {
        notes.add("input '" + in + "' is not read only by Conv2D/MatMul layers with known "
            + "kernels, so no homogeneous coordinate can be added: normalized without one");
        m = HomogeneousMode.OFF;
      }
      TensorName out = emit(g, in, m, rank, axis);
      g.replaceUses(TensorName.of(in), out, pln(g, in));
      if (m != HomogeneousMode.OFF) {
        for (String c : consumers) {
          widen(ctx, c);
        }
      }
      notes.add("input '" + input + "' normalized per location (homogeneous coordinate "
          + m.referenceName() + ")");
      changed++;
    }
    return new PassOutcome(name(), changed, notes);
  }

  /** The rank of the placeholder's declared shape, -1 when unknown. */
  private static int rank(NodeDef p) {
    return p.containsAttr("shape") && !p.getAttrOrThrow("shape").getShape().getUnknownRank()
        ? p.getAttrOrThrow("shape").getShape().getDimCount() : -1;
  }

  /**
   * The Cast to float32 that is the only data reader of the non-float input {@code in} (an int32
   * or uint8 image: movenet, faceboxes), or null: the body starts after it, so the normalization
   * goes there.
   */
  private static String floatCast(GraphView g, String in) {
    List<String> readers = g.dataConsumers(TensorName.of(in));
    if (readers.size() != 1) {
      return null;
    }
    NodeDef c = g.get(readers.get(0));
    boolean toFloat = c.getOp().equals("Cast") && c.containsAttr("DstT")
        && c.getAttrOrThrow("DstT").getType() == DataType.DT_FLOAT;
    return toFloat ? c.getName() : null;
  }

  /** The names of this pass's nodes for input {@code in}. */
  private static List<String> pln(GraphView g, String in) {
    return g.nodes().stream().map(NodeDef::getName).filter(n -> n.startsWith(in + "/pln/"))
        .toList();
  }

  /**
   * The normalization ops. A rank-1 input is a batch of scalars (one feature per example, as
   * {@link dev.dks.solver.init.PerLocationNormalization} specifies): each is divided by its own
   * root mean square, elementwise, never by a mean over the batch axis.
   */
  private TensorName emit(GraphView g, String in, HomogeneousMode m, int rank, int axis) {
    String s = in + "/pln/";
    TensorName x = TensorName.of(in);
    if (m != HomogeneousMode.OFF) {
      add(g, int32Const(s + "feature_axis", new int[] {-1}, true));
      add(g, op("Sum", s + "feature_sum", x.toString(), s + "feature_axis").type("Tidx",
          DataType.DT_INT32).attr("keep_dims", AttrValue.newBuilder().setB(true).build()).build());
      add(g, op("OnesLike", s + "ones", s + "feature_sum").build());
      String column = s + "ones";
      if (m == HomogeneousMode.AVG_Q) {
        add(g, op("Square", s + "example_square", in).build());
        add(g, op("Rank", s + "rank", in).build());
        add(g, int32Const(s + "one", new int[] {1}, false));
        add(g, Nodes.op("Range", s + "example_axes").input(s + "one").input(s + "rank")
            .input(s + "one").type("Tidx", DataType.DT_INT32).build());
        add(g, op("Mean", s + "example_mean", s + "example_square", s + "example_axes")
            .type("Tidx", DataType.DT_INT32)
            .attr("keep_dims", AttrValue.newBuilder().setB(true).build()).build());
        add(g, op("Sqrt", s + "example_rms", s + "example_mean").build());
        add(g, op("Mul", s + "avg_q", s + "ones", s + "example_rms").build());
        column = s + "avg_q";
      }
      if (homogScale != 1.0) {
        add(g, Nodes.floatScalar(s + "homog_scale/value", (float) homogScale));
        add(g, op("Mul", s + "homog_scaled", column, s + "homog_scale/value").build());
        column = s + "homog_scaled";
      }
      add(g, int32Const(s + "concat_axis", new int[] {-1}, false));
      add(g, Nodes.op("ConcatV2", s + "with_homog").input(in).input(column)
          .input(s + "concat_axis").type("T", DataType.DT_FLOAT).type("Tidx", DataType.DT_INT32)
          .attr("N", AttrValue.newBuilder().setI(2).build()).build());
      x = TensorName.of(s + "with_homog");
    }
    add(g, op("Square", s + "square", x.toString()).build());
    String meanSquare = s + "square";
    if (!(rank == 1 && m == HomogeneousMode.OFF)) {
      add(g, int32Const(s + "last_axis", new int[] {axis}, true));
      add(g, op("Mean", s + "mean_square", s + "square", s + "last_axis").type("Tidx",
          DataType.DT_INT32).attr("keep_dims", AttrValue.newBuilder().setB(true).build())
          .build());
      meanSquare = s + "mean_square";
    }
    add(g, op("Rsqrt", s + "inverse_rms", meanSquare).build());
    add(g, op("Mul", s + "normalized", x.toString(), s + "inverse_rms").build());
    return TensorName.of(s + "normalized");
  }

  private static Nodes.Builder op(String op, String name, String... inputs) {
    Nodes.Builder b = Nodes.op(op, name);
    for (String i : inputs) {
      b.input(i);
    }
    return b.type("T", DataType.DT_FLOAT);
  }

  private static NodeDef int32Const(String name, int[] v, boolean vector) {
    TensorProto.Builder t = TensorProto.newBuilder().setDtype(DataType.DT_INT32);
    if (vector) {
      t.setTensorShape(TensorProtos.shapeProto(new long[] {v.length}));
    } else {
      t.setTensorShape(org.tensorflow.proto.TensorShapeProto.getDefaultInstance());
    }
    for (int x : v) {
      t.addIntVal(x);
    }
    return Nodes.constant(name, t.build());
  }

  private static void add(GraphView g, NodeDef n) {
    g.add(n);
  }

  private static boolean widenable(RewriteContext ctx, String consumer) {
    NodeDef c = ctx.graph().get(consumer);
    if (!WIDENABLE.contains(c.getOp())) {
      return false;
    }
    if (c.getOp().equals("MatMul") && c.containsAttr("transpose_a")
        && c.getAttrOrThrow("transpose_a").getB()) {
      return false;
    }
    String k = kernelNode(ctx.graph(), c);
    return k != null && (ctx.variables().containsKey(k)
        || ctx.graph().get(k).getOp().equals("Const"));
  }

  /** The VariableV2/Const node holding the kernel, through Identity reads. */
  private static String kernelNode(GraphView g, NodeDef layer) {
    String n = TensorName.parse(layer.getInput(1)).node();
    for (int hops = 0; hops < 4 && g.contains(n); hops++) {
      NodeDef d = g.get(n);
      if (d.getOp().equals("VariableV2") || d.getOp().equals("Const")) {
        return n;
      }
      if (!d.getOp().equals("Identity")) {
        return null;
      }
      n = TensorName.parse(d.getInput(0)).node();
    }
    return null;
  }

  /** Adds a zero input row (channel) to the kernel of a layer reading the input. */
  private static void widen(RewriteContext ctx, String consumer) {
    GraphView g = ctx.graph();
    NodeDef layer = g.get(consumer);
    String k = kernelNode(g, layer);
    NodeDef kn = g.get(k);
    TensorProto value = ctx.variables().containsKey(k) ? ctx.variables().get(k)
        : kn.getAttrOrThrow("value").getTensor();
    long[] shape = TensorProtos.shape(value);
    float[] v = TensorProtos.floats(value);
    boolean transposed = layer.getOp().equals("MatMul") && layer.containsAttr("transpose_b")
        && layer.getAttrOrThrow("transpose_b").getB();
    // view as [outer, in, inner]: the input axis is -2 (HWIO, [in, out]) or -1 ([out, in])
    int inAxis = transposed ? shape.length - 1 : shape.length - 2;
    long outer = 1;
    for (int i = 0; i < inAxis; i++) {
      outer *= shape[i];
    }
    long inner = 1;
    for (int i = inAxis + 1; i < shape.length; i++) {
      inner *= shape[i];
    }
    long in = shape[inAxis];
    float[] w = new float[(int) (outer * (in + 1) * inner)];
    for (long o = 0; o < outer; o++) {
      for (long i = 0; i < in; i++) {
        System.arraycopy(v, (int) ((o * in + i) * inner), w, (int) ((o * (in + 1) + i) * inner),
            (int) inner);
      }
    }
    long[] wide = shape.clone();
    wide[inAxis] = in + 1;
    TensorProto widened = TensorProtos.ofFloats(wide, w);
    dev.dks.rewriter.pipeline.TensorFlowVerifier.allowShapeChange(ctx, List.of(k));
    if (ctx.variables().containsKey(k)) {
      ctx.variables().put(k, widened);
      // _output_shapes (TF1 graphs record it) would keep the old shape and fail TF's import
      g.put(kn.toBuilder().removeAttr("_output_shapes").putAttr("shape", AttrValue.newBuilder()
          .setShape(TensorProtos.shapeProto(wide)).build()).build());
      for (NodeDef reader : List.copyOf(g.nodes())) {
        if (reader.getOp().equals("Identity") && reader.getInputCount() > 0
            && reader.getInput(0).equals(k) && reader.containsAttr("_output_shapes")) {
          g.put(reader.toBuilder().removeAttr("_output_shapes").build());
        }
      }
    } else {
      g.put(Nodes.constant(k, widened));
    }
  }
}
