package dev.dks.rewriter.passes.norm;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleBinaryOperator;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * Evaluates, in Java, a tensor that depends only on constants and variable values: the
 * parameters of a normalization and the small elementwise subgraphs built from them ({@code
 * rsqrt(var + eps) * gamma}, {@code beta - mean * inv}, ...). Float32 only; anything else is a
 * {@link Bail} naming the node.
 */
final class ParamEvaluator {
  private final GraphView g;
  private final Map<String, org.tensorflow.proto.TensorProto> variables;
  private final Map<TensorName, FloatTensor> memo = new HashMap<>();

  ParamEvaluator(GraphView g, Map<String, TensorProto> variables) {
    this.g = g;
    this.variables = variables;
  }

  FloatTensor eval(TensorName t) throws Bail {
    FloatTensor v = memo.get(t);
    if (v == null) {
      v = compute(t, 0);
      memo.put(t, v);
    }
    return v;
  }

  private FloatTensor compute(TensorName t, int depth) throws Bail {
    if (depth > 200) {
      throw new Bail("the parameter subgraph at '" + t + "' is too deep");
    }
    NodeDef n = g.find(t.node()).orElseThrow(() -> new Bail("no node '" + t.node() + "'"));
    String op = n.getOp();
    if (t.index() != 0) {
      throw new Bail("'" + t + "' (" + op + ") is not an output 0");
    }
    switch (op) {
      case "Const", "VariableV2", "Variable", "VarHandleOp" -> {
        ValueSource src = ValueSource.resolve(g, t);
        TensorProto p = src == null ? null : src.value(g, variables);
        if (p == null) {
          throw new Bail("no value known for " + op + " '" + n.getName() + "'");
        }
        FloatTensor f = FloatTensor.of(p);
        if (f == null) {
          throw new Bail(op + " '" + n.getName() + "' holds " + p.getDtype() + ", not float32");
        }
        return f;
      }
      case "Identity", "ReadVariableOp", "Snapshot", "StopGradient" -> {
        return compute(in(n, 0), depth + 1);
      }
      case "Cast" -> {
        if (type(n, "SrcT") != DataType.DT_FLOAT || type(n, "DstT") != DataType.DT_FLOAT) {
          throw new Bail("Cast '" + n.getName() + "' is not float32 to float32");
        }
        return compute(in(n, 0), depth + 1);
      }
      case "Rsqrt" -> {
        return unary(n, depth).map(x -> 1.0 / Math.sqrt(x));
      }
      case "Sqrt" -> {
        return unary(n, depth).map(Math::sqrt);
      }
      case "Reciprocal", "Inv" -> {
        return unary(n, depth).map(x -> 1.0 / x);
      }
      case "Neg" -> {
        return unary(n, depth).map(x -> -x);
      }
      case "Square" -> {
        return unary(n, depth).map(x -> x * x);
      }
      case "Mul" -> {
        return binary(n, depth, (a, b) -> a * b);
      }
      case "Add", "AddV2" -> {
        return binary(n, depth, Double::sum);
      }
      case "Sub" -> {
        return binary(n, depth, (a, b) -> a - b);
      }
      case "RealDiv", "Div" -> {
        return binary(n, depth, (a, b) -> a / b);
      }
      case "Maximum" -> {
        return binary(n, depth, Math::max);
      }
      case "Minimum" -> {
        return binary(n, depth, Math::min);
      }
      case "SquaredDifference" -> {
        return binary(n, depth, (a, b) -> (a - b) * (a - b));
      }
      case "Reshape" -> {
        FloatTensor x = compute(in(n, 0), depth + 1);
        long[] shape = intConstant(in(n, 1));
        return reshape(n, x, shape);
      }
      default -> throw new Bail("cannot evaluate " + op + " '" + n.getName()
          + "' inside a normalization's parameters");
    }
  }

  private FloatTensor unary(NodeDef n, int depth) throws Bail {
    checkFloat(n);
    return compute(in(n, 0), depth + 1);
  }

  private FloatTensor binary(NodeDef n, int depth, DoubleBinaryOperator op) throws Bail {
    checkFloat(n);
    FloatTensor a = compute(in(n, 0), depth + 1);
    FloatTensor b = compute(in(n, 1), depth + 1);
    FloatTensor r = FloatTensor.zip(a, b, op);
    if (r == null) {
      throw new Bail(n.getOp() + " '" + n.getName() + "' combines shapes " + a + " and " + b
          + " that do not broadcast");
    }
    return r;
  }

  private FloatTensor reshape(NodeDef n, FloatTensor x, long[] shape) throws Bail {
    long known = 1;
    int unknown = -1;
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] < 0) {
        if (unknown >= 0) {
          throw new Bail("Reshape '" + n.getName() + "' has two -1 dimensions");
        }
        unknown = i;
      } else {
        known *= shape[i];
      }
    }
    long[] s = shape.clone();
    if (unknown >= 0) {
      if (known == 0 || x.size() % known != 0) {
        throw new Bail("Reshape '" + n.getName() + "' does not fit " + x);
      }
      s[unknown] = x.size() / known;
      known *= s[unknown];
    }
    if (known != x.size()) {
      throw new Bail("Reshape '" + n.getName() + "' to " + java.util.Arrays.toString(shape)
          + " does not fit " + x);
    }
    return new FloatTensor(s, x.values);
  }

  /** The values of an int32/int64 Const (looked through Identity). */
  long[] intConstant(TensorName t) throws Bail {
    ValueSource src = ValueSource.resolve(g, t);
    if (src == null || src.kind() != ValueSource.Kind.CONST) {
      throw new Bail("'" + t + "' is not a constant");
    }
    return ints(g.get(src.node()).getAttrOrThrow("value").getTensor(), src.node());
  }

  static long[] ints(TensorProto p, String where) throws Bail {
    long n = 1;
    for (var d : p.getTensorShape().getDimList()) {
      n *= d.getSize();
    }
    long[] out = new long[Math.toIntExact(n)];
    if (p.getDtype() == DataType.DT_INT32) {
      if (!p.getTensorContent().isEmpty()) {
        var ib = p.getTensorContent().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN)
            .asIntBuffer();
        for (int i = 0; i < out.length; i++) {
          out[i] = ib.get(i);
        }
      } else {
        fill(out, p.getIntValList().stream().map(Integer::longValue).toList());
      }
    } else if (p.getDtype() == DataType.DT_INT64) {
      if (!p.getTensorContent().isEmpty()) {
        var lb = p.getTensorContent().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN)
            .asLongBuffer();
        for (int i = 0; i < out.length; i++) {
          out[i] = lb.get(i);
        }
      } else {
        fill(out, p.getInt64ValList());
      }
    } else {
      throw new Bail("constant '" + where + "' holds " + p.getDtype() + ", not an integer type");
    }
    return out;
  }

  private static void fill(long[] out, List<Long> vals) {
    for (int i = 0; i < out.length; i++) {
      out[i] = vals.isEmpty() ? 0 : vals.get(Math.min(i, vals.size() - 1));
    }
  }

  private static void checkFloat(NodeDef n) throws Bail {
    if (n.containsAttr("T") && n.getAttrOrThrow("T").getType() != DataType.DT_FLOAT) {
      throw new Bail(n.getOp() + " '" + n.getName() + "' has T="
          + n.getAttrOrThrow("T").getType() + ", not float32");
    }
  }

  private static DataType type(NodeDef n, String attr) {
    return n.containsAttr(attr) ? n.getAttrOrThrow(attr).getType() : DataType.DT_INVALID;
  }

  private static TensorName in(NodeDef n, int i) throws Bail {
    int k = 0;
    for (String s : n.getInputList()) {
      if (s.startsWith("^")) {
        continue;
      }
      if (k++ == i) {
        return TensorName.parse(s);
      }
    }
    throw new Bail(n.getOp() + " '" + n.getName() + "' has no input " + i);
  }
}
