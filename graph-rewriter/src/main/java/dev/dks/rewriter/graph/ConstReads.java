package dev.dks.rewriter.graph;

import dev.dks.rewriter.model.TensorProtos;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Optional;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * The values of a constant tensor as a graph reader sees it: a {@code Const} node's output, seen
 * through up to {@value #MAX_IDENTITY_HOPS} {@code Identity} reads (TF.js and Grappler leave such
 * chains). Small shape, permutation, padding and scale arguments; values row-major.
 */
public final class ConstReads {
  /** How many Identity reads are followed before giving up. */
  public static final int MAX_IDENTITY_HOPS = 4;

  private ConstReads() {}

  /** The Const node behind {@code t} (through Identity reads), if it is one. */
  public static Optional<NodeDef> constNode(GraphView g, TensorName t) {
    return g.find(g.throughIdentities(t, MAX_IDENTITY_HOPS).node())
        .filter(d -> d.getOp().equals("Const"));
  }

  /** The value attribute of the Const behind {@code t}, if it has one. */
  public static Optional<TensorProto> value(GraphView g, TensorName t) {
    return constNode(g, t).filter(d -> d.containsAttr("value"))
        .map(d -> d.getAttrOrThrow("value").getTensor());
  }

  /** The values of an int32 or int64 Const behind {@code t}, or null (another dtype, no Const). */
  public static int[] ints(GraphView g, TensorName t) {
    TensorProto p = value(g, t).orElse(null);
    if (p == null) {
      return null;
    }
    ByteBuffer b = p.getTensorContent().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    boolean packed = !p.getTensorContent().isEmpty();
    if (p.getDtype() == DataType.DT_INT32) {
      if (packed) {
        int[] out = new int[b.remaining() / 4];
        b.asIntBuffer().get(out);
        return out;
      }
      return p.getIntValList().stream().mapToInt(Integer::intValue).toArray();
    }
    if (p.getDtype() == DataType.DT_INT64) {
      if (packed) {
        long[] out = new long[b.remaining() / 8];
        b.asLongBuffer().get(out);
        return Arrays.stream(out).mapToInt(Math::toIntExact).toArray();
      }
      return p.getInt64ValList().stream().mapToInt(Math::toIntExact).toArray();
    }
    return null;
  }

  /** The values of a float32 Const behind {@code t}, or null (another dtype, none, or empty). */
  public static double[] floats(GraphView g, TensorName t) {
    TensorProto p = value(g, t).orElse(null);
    if (p == null || p.getDtype() != DataType.DT_FLOAT) {
      return null;
    }
    float[] f = TensorProtos.floats(p);
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d.length == 0 ? null : d;
  }
}
