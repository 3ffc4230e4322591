package dev.dks.rewriter.analysis;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.TensorProtos;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorShapeProto;

/**
 * The bias of a layer added after a Reshape: Keras {@code Dense} applied to a rank &gt; 2 tensor
 * is written as tensordot, {@code Reshape(MatMul(Reshape(x, [-1, in]), kernel), [..., units])}
 * followed by {@code BiasAdd(bias)} (the squeeze-and-excitation gates of the TF.js meet model:
 * {@code [N, 1, 1, C]}). Such a bias is per output unit exactly like a BiasAdd right after the
 * MatMul, so it is the layer's bias: DKS initialization zeroes it and the kernel prediction
 * assumes it zero. Matched only when the layer's only consumer is that Reshape (reading the layer
 * as its data), the Reshape's static shape (TensorFlow's shape inference) ends in the layer's
 * number of output units, the Reshape's only consumer adds a value declared rank 1 with that
 * many units, and the add acts on the last axis without broadcasting: a BiasAdd in NHWC, or an
 * Add/AddV2 whose static output shape is the Reshape's (a bias of length U added to {@code
 * [N, U, 1]} broadcasts to {@code [N, U, U]} and is no per-unit bias).
 */
final class ReshapedBias {
  private ReshapedBias() {}

  /**
   * {bias add node, value node} for layer {@code layer} (kernel value node {@code kernel}) as
   * above, or null.
   *
   * @param biasAfter {bias add, value} when the only consumer of a node adds a value, else null
   * @param shapes the graph's known output-0 static shapes by node name (asked only for a
   *     candidate)
   */
  static String[] find(GraphView g, NodeDef layer, String kernel,
      BiFunction<GraphView, String, String[]> biasAfter, Supplier<Map<String, long[]>> shapes) {
    List<String> consumers = g.consumers(layer.getName());
    if (consumers.size() != 1 || kernel.isEmpty()) {
      return null;
    }
    NodeDef r = g.get(consumers.get(0));
    if (!r.getOp().equals("Reshape") || r.getInputCount() < 1
        || !TensorName.parse(r.getInput(0)).equals(TensorName.of(layer.getName()))) {
      return null;
    }
    String[] bias = biasAfter.apply(g, r.getName());
    if (bias == null) {
      return null;
    }
    long units = units(layer, declaredShape(g, kernel));
    long[] b = declaredShape(g, bias[1]);
    if (units <= 0 || b == null || b.length != 1 || b[0] != units) {
      return null;
    }
    long[] reshaped = shapes.get().get(r.getName());
    if (reshaped == null || reshaped.length == 0 || reshaped[reshaped.length - 1] != units) {
      return null;
    }
    NodeDef add = g.get(bias[0]);
    boolean lastAxis = add.getOp().equals("BiasAdd")
        ? !add.containsAttr("data_format")
            || add.getAttrOrThrow("data_format").getS().toStringUtf8().equals("NHWC")
        : Arrays.equals(shapes.get().get(add.getName()), reshaped);
    return lastAxis ? bias : null;
  }

  /** The layer's output units from its kernel's shape, or -1 when unknown. */
  private static long units(NodeDef layer, long[] k) {
    if (k == null) {
      return -1;
    }
    return switch (layer.getOp()) {
      case "MatMul" -> k.length != 2 ? -1
          : layer.containsAttr("transpose_b") && layer.getAttrOrThrow("transpose_b").getB()
              ? k[0] : k[1];
      case "Conv2D" -> k.length == 4 ? k[3] : -1;
      case "DepthwiseConv2dNative" -> k.length == 4 ? k[2] * k[3] : -1;
      default -> -1;
    };
  }

  /**
   * The shape a value node declares: a Const's tensor shape, a VariableV2's or VarHandleOp's
   * {@code shape} attribute; null when absent or not fully known.
   */
  private static long[] declaredShape(GraphView g, String node) {
    Optional<NodeDef> n = g.find(node);
    if (n.isEmpty()) {
      return null;
    }
    if (n.get().getOp().equals("Const")) {
      AttrValue v = n.get().getAttrMap().get("value");
      return v == null || !v.hasTensor() ? null : TensorProtos.shape(v.getTensor());
    }
    AttrValue s = n.get().getAttrMap().get("shape");
    if (s == null || !s.hasShape() || s.getShape().getUnknownRank()) {
      return null;
    }
    long[] d = s.getShape().getDimList().stream().mapToLong(TensorShapeProto.Dim::getSize)
        .toArray();
    for (long x : d) {
      if (x < 0) {
        return null;
      }
    }
    return d;
  }
}
