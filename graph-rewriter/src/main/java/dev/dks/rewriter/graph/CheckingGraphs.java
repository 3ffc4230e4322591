package dev.dks.rewriter.graph;

import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Imports a GraphDef into TensorFlow for checks that need its ops, edges, attributes and inferred
 * shapes but never runs it (the pipeline's verifiers, the structure analysis's shapes), without
 * handing TensorFlow the weights.
 *
 * <p>A frozen or TF.js graph holds its weights as {@code Const} nodes: importing blazepose-heavy's
 * 55 MB GraphDef cost about 0.45 s of CPU, and the rewrite imported it three times before the
 * weights became variables. Here every {@code Const} whose value is a floating-point tensor
 * (float32, float64, float16, bfloat16) of at least {@link #MIN_ELEMENTS} elements, stored as
 * {@code tensor_content} of exactly the size its shape and dtype need, is imported with a value
 * of the same dtype and shape holding a single zero (TensorFlow fills a tensor whose proto has
 * fewer values than elements with the last one). Shape inference reads a {@code Const}'s shape
 * from its value's {@code tensor_shape}, so every inferred shape is the same; values are only read
 * for shape-like operands (reshape targets, paddings, ranges: integer or tiny tensors, never
 * replaced). A {@code Const} whose content does not match its shape is left as it is, for
 * TensorFlow to judge as before.
 */
public final class CheckingGraphs {
  /** Floating-point Consts with fewer elements than this keep their values. */
  public static final long MIN_ELEMENTS = 256;

  private static final Map<DataType, Integer> FLOAT_BYTES = Map.of(DataType.DT_FLOAT, 4,
      DataType.DT_DOUBLE, 8, DataType.DT_HALF, 2, DataType.DT_BFLOAT16, 2);

  private CheckingGraphs() {}

  /** Imports {@code def} into {@code graph} with large floating-point constants elided. */
  public static void importForChecks(Graph graph, GraphDef def) {
    GraphImport.into(graph, withoutWeights(def));
  }

  /**
   * {@code def} with the value of every large floating-point {@code Const} (see the class comment)
   * replaced by a single zero of the same dtype and shape; {@code def} itself when there is none.
   */
  public static GraphDef withoutWeights(GraphDef def) {
    GraphDef.Builder b = null;
    for (int i = 0; i < def.getNodeCount(); i++) {
      NodeDef n = def.getNode(i);
      TensorProto small = elided(n);
      if (small == null) {
        continue;
      }
      if (b == null) {
        b = def.toBuilder();
      }
      NodeDef.Builder nb = n.toBuilder();
      nb.putAttr("value", nb.getAttrOrThrow("value").toBuilder().setTensor(small).build());
      b.setNode(i, nb.build());
    }
    return b == null ? def : b.build();
  }

  /** The single-zero stand-in for {@code n}'s value, or null to keep the node. */
  static TensorProto elided(NodeDef n) {
    if (!n.getOp().equals("Const") || !n.containsAttr("value")) {
      return null;
    }
    TensorProto t = n.getAttrOrThrow("value").getTensor();
    Integer bytes = FLOAT_BYTES.get(t.getDtype());
    if (bytes == null || t.getTensorContent().isEmpty()) {
      return null;
    }
    long elements = elements(t.getTensorShape());
    if (elements < MIN_ELEMENTS || t.getTensorContent().size() != elements * bytes) {
      return null;
    }
    TensorProto.Builder s = TensorProto.newBuilder().setDtype(t.getDtype())
        .setTensorShape(t.getTensorShape());
    switch (t.getDtype()) {
      case DT_FLOAT -> s.addFloatVal(0f);
      case DT_DOUBLE -> s.addDoubleVal(0.0);
      default -> s.addHalfVal(0); // DT_HALF and DT_BFLOAT16 keep their bits in half_val
    }
    return s.build();
  }

  /** Elements of a fully known shape; -1 when a dimension is unknown or the rank is. */
  private static long elements(TensorShapeProto shape) {
    if (shape.getUnknownRank()) {
      return -1;
    }
    long n = 1;
    for (TensorShapeProto.Dim d : shape.getDimList()) {
      if (d.getSize() < 0) {
        return -1;
      }
      n *= d.getSize();
    }
    return n;
  }
}
