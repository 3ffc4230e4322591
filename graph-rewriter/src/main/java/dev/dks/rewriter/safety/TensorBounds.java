package dev.dks.rewriter.safety;

import java.util.Arrays;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Bounds of the tensors a graph holds in its attributes ({@code Const} values, and any other
 * tensor-valued attribute), checked before anything allocates them (untrusted models, issue 17).
 * A tensor's declared bytes are its element count (the product of its dimensions, overflow-safe)
 * times its element size (string elements count 32 bytes, TensorFlow's {@code tstring}), and:
 *
 * <ul>
 *   <li>no dimension may be negative;
 *   <li>a tensor with {@code tensor_content} must hold exactly its declared bytes there (TensorFlow
 *       requires it; a shorter content would be read past its end);
 *   <li>the bytes a tensor declares beyond what it stores (the one-value broadcast of {@code
 *       float_val} and friends: a 4-byte proto declaring a 4 GB tensor) may not exceed the budget,
 *       for one tensor and for the whole graph. Packed values are already in memory once the proto
 *       is parsed (protobuf limits a message to 2 GB), so they are not counted.
 * </ul>
 *
 * The default budget is a quarter of the JVM's maximum heap (as for Keras HDF5 weights). Every
 * refusal is a {@link TensorBoundsException} naming the node (and its library function).
 */
public final class TensorBounds {
  private TensorBounds() {}

  /** Bytes one string element counts (TensorFlow's tstring). */
  static final long STRING_ELEMENT_BYTES = 32;

  /** Refused: the message names the node and what it declares. */
  public static final class TensorBoundsException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    TensorBoundsException(String message) {
      super(message);
    }
  }

  /** A quarter of the JVM's maximum heap. */
  public static long defaultBudget() {
    return Runtime.getRuntime().maxMemory() / 4;
  }

  /** Checks every tensor attribute of {@code g} (nodes and library functions), default budget. */
  public static void requireWithin(GraphDef g) {
    requireWithin(g, defaultBudget());
  }

  /**
   * Checks every tensor attribute of {@code g}'s nodes and of its library functions' nodes.
   *
   * @throws TensorBoundsException naming the first node over a bound
   */
  public static void requireWithin(GraphDef g, long budget) {
    long[] expansion = {0};
    for (NodeDef n : g.getNodeList()) {
      checkNode(null, n, budget, expansion);
    }
    for (FunctionDef f : g.getLibrary().getFunctionList()) {
      for (NodeDef n : f.getNodeDefList()) {
        checkNode(f.getSignature().getName(), n, budget, expansion);
      }
    }
  }

  private static void checkNode(String function, NodeDef n, long budget, long[] expansion) {
    for (var e : n.getAttrMap().entrySet()) {
      AttrValue a = e.getValue();
      String what = "node '" + (function == null ? "" : function + "/") + n.getName() + "' ("
          + n.getOp() + ", attribute " + e.getKey() + ")";
      if (a.hasTensor()) {
        expansion[0] = addExact(what, expansion[0], check(a.getTensor(), what, budget), budget);
      }
      for (TensorProto t : a.getList().getTensorList()) {
        expansion[0] = addExact(what, expansion[0], check(t, what, budget), budget);
      }
    }
  }

  private static long addExact(String what, long total, long more, long budget) {
    long sum = total + more;
    if (sum < 0 || sum > budget) {
      throw new TensorBoundsException(what + ": the graph's tensors declare more bytes than "
          + "they store, " + (sum < 0 ? "beyond 2^63" : sum + " in total") + ", over the memory "
          + "budget of " + budget + " bytes; refused before allocating (a hostile or corrupt "
          + "model)");
    }
    return sum;
  }

  /**
   * Checks one tensor ({@code what} names it in the message).
   *
   * @return the bytes it declares beyond those it stores (0 for a packed tensor)
   * @throws TensorBoundsException when a bound is broken
   */
  public static long check(TensorProto t, String what, long budget) {
    long n = 1;
    boolean overflow = false;
    for (TensorShapeProto.Dim d : t.getTensorShape().getDimList()) {
      if (d.getSize() < 0) {
        throw new TensorBoundsException(what + ": the tensor's shape " + shape(t)
            + " has a negative dimension");
      }
      try {
        n = Math.multiplyExact(n, d.getSize());
      } catch (ArithmeticException ex) {
        overflow = true;
      }
    }
    long elem = elementBytes(t.getDtype());
    long declared;
    try {
      declared = overflow ? Long.MAX_VALUE : Math.multiplyExact(n, elem);
    } catch (ArithmeticException ex) {
      declared = Long.MAX_VALUE;
    }
    String dtype = t.getDtype().name();
    if (declared == Long.MAX_VALUE) {
      throw new TensorBoundsException(what + ": the " + dtype + " tensor of shape " + shape(t)
          + " declares more than 2^63 bytes; refused before allocating");
    }
    if (!t.getTensorContent().isEmpty() && packed(t.getDtype())) {
      long stored = t.getTensorContent().size();
      if (stored != declared) {
        throw new TensorBoundsException(what + ": the " + dtype + " tensor of shape " + shape(t)
            + " declares " + declared + " bytes but its tensor_content holds " + stored
            + "; refused before reading it");
      }
      return 0;
    }
    long expansion = Math.max(0, declared - typedValues(t) * elem);
    if (expansion > budget) {
      throw new TensorBoundsException(what + ": the " + dtype + " tensor of shape " + shape(t)
          + " declares " + declared + " bytes from " + typedValues(t) + " stored value(s), over "
          + "the memory budget of " + budget + " bytes; refused before allocating");
    }
    return expansion;
  }

  /** Dtypes whose tensor_content is exactly element count times element size. */
  private static boolean packed(DataType dtype) {
    if (dtype == DataType.UNRECOGNIZED) {
      return false;
    }
    DataType base = dtype.getNumber() > 100 ? DataType.forNumber(dtype.getNumber() - 100) : dtype;
    return base != null && switch (base) {
      case DT_STRING, DT_RESOURCE, DT_VARIANT, DT_INT4, DT_UINT4, DT_INVALID, UNRECOGNIZED ->
          false;
      default -> true;
    };
  }

  private static String shape(TensorProto t) {
    return Arrays.toString(t.getTensorShape().getDimList().stream()
        .mapToLong(TensorShapeProto.Dim::getSize).toArray());
  }

  private static long typedValues(TensorProto t) {
    return (long) t.getFloatValCount() + t.getDoubleValCount() + t.getIntValCount()
        + t.getInt64ValCount() + t.getUint32ValCount() + t.getUint64ValCount()
        + t.getBoolValCount() + t.getHalfValCount() + t.getStringValCount()
        + t.getScomplexValCount() / 2 + t.getDcomplexValCount() / 2
        + t.getResourceHandleValCount() + t.getVariantValCount();
  }

  /** Bytes of one element of {@code dtype} (reference types as their base; unknown: 8). */
  public static long elementBytes(DataType dtype) {
    if (dtype == DataType.UNRECOGNIZED) {
      return 8;
    }
    DataType base = dtype.getNumber() > 100 ? DataType.forNumber(dtype.getNumber() - 100) : dtype;
    if (base == null) {
      return 8;
    }
    return switch (base) {
      case DT_BOOL, DT_INT8, DT_UINT8, DT_QINT8, DT_QUINT8, DT_INT4, DT_UINT4,
          DT_FLOAT8_E5M2, DT_FLOAT8_E4M3FN -> 1;
      case DT_HALF, DT_BFLOAT16, DT_INT16, DT_UINT16, DT_QINT16, DT_QUINT16 -> 2;
      case DT_FLOAT, DT_INT32, DT_UINT32, DT_QINT32 -> 4;
      case DT_DOUBLE, DT_INT64, DT_UINT64, DT_COMPLEX64 -> 8;
      case DT_COMPLEX128 -> 16;
      case DT_STRING -> STRING_ELEMENT_BYTES;
      default -> 8;
    };
  }
}
