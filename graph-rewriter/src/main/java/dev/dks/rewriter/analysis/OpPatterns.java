package dev.dks.rewriter.analysis;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * Small structural predicates over a graph used by the matchers: producers of tensors, Mul/Add in
 * either operand order, scalar constants (Const, possibly through Identity), and dependency
 * checks within a bounded depth. All are side-effect free.
 */
final class OpPatterns {
  private final GraphView g;

  OpPatterns(GraphView g) {
    this.g = g;
  }

  boolean isMul(NodeDef n) {
    return n.getOp().equals("Mul") && n.getInputCount() >= 2;
  }

  boolean isAdd(NodeDef n) {
    return (n.getOp().equals("Add") || n.getOp().equals("AddV2")) && n.getInputCount() >= 2;
  }

  TensorName in(NodeDef n, int i) {
    return TensorName.parse(n.getInput(i));
  }

  Optional<NodeDef> producer(TensorName t) {
    return g.find(t.node());
  }

  Optional<NodeDef> producer(TensorName t, String op) {
    return producer(t).filter(n -> n.getOp().equals(op) && t.index() == 0);
  }

  /** The scalar value of a float Const (seen through Identity), if t is one. */
  Optional<Double> constValue(TensorName t) {
    Optional<NodeDef> n = producer(t);
    for (int hops = 0; n.isPresent() && n.get().getOp().equals("Identity") && hops < 3; hops++) {
      n = producer(in(n.get(), 0));
    }
    if (n.isEmpty() || !n.get().getOp().equals("Const")) {
      return Optional.empty();
    }
    AttrValue v = n.get().getAttrOrDefault("value", null);
    if (v == null || !v.hasTensor()) {
      return Optional.empty();
    }
    TensorProto tp = v.getTensor();
    long count = 1;
    for (var d : tp.getTensorShape().getDimList()) {
      count *= d.getSize();
    }
    if (count != 1) {
      return Optional.empty();
    }
    if (tp.getFloatValCount() == 1) {
      return Optional.of((double) tp.getFloatVal(0));
    }
    if (tp.getDoubleValCount() == 1) {
      return Optional.of(tp.getDoubleVal(0));
    }
    if (tp.getTensorContent().size() == 4) {
      return Optional.of((double) tp.getTensorContent().asReadOnlyByteBuffer()
          .order(java.nio.ByteOrder.LITTLE_ENDIAN).getFloat());
    }
    return Optional.empty();
  }

  /** True when every node of {@code nodes} but {@code top} is read only by nodes of the list. */
  boolean readOnlyWithin(List<String> nodes, String top) {
    for (String n : nodes) {
      if (!n.equals(top) && !nodes.containsAll(g.consumers(n))) {
        return false;
      }
    }
    return true;
  }

  boolean isConstValue(TensorName t, double v) {
    return constValue(t).filter(c -> Math.abs(c - v) <= 1e-6 * Math.max(1, Math.abs(v)))
        .isPresent();
  }

  /** If n computes {@code t * factor} (Mul either order, or RealDiv by 1/factor), t. */
  Optional<TensorName> scaledBy(NodeDef n, double factor) {
    return scaledBy(n, factor, 1e-6);
  }

  /**
   * Relative error of a constant stored in half precision (TF.js models quantize weights to
   * float16: hard-swish's 1/6 is read back as 0.166626, 2.4e-4 off): one unit in the last place
   * of float16 is 2^-10 of the value.
   */
  static final double HALF_PRECISION = 1e-3;

  /**
   * {@link #scaledBy(NodeDef, double)} with the constant within {@code relTol} (relative) of the
   * factor, e.g. {@link #HALF_PRECISION} for a constant a model may store in float16.
   */
  Optional<TensorName> scaledBy(NodeDef n, double factor, double relTol) {
    if (isMul(n)) {
      for (int i = 0; i < 2; i++) {
        if (isConstNear(in(n, i), factor, relTol)) {
          return Optional.of(in(n, 1 - i));
        }
      }
    }
    if (n.getOp().equals("RealDiv") && isConstNear(in(n, 1), 1 / factor, relTol)) {
      return Optional.of(in(n, 0));
    }
    return Optional.empty();
  }

  private boolean isConstNear(TensorName t, double v, double relTol) {
    return constValue(t).filter(c -> Math.abs(c - v) <= relTol * Math.max(1, Math.abs(v)))
        .isPresent();
  }

  /** True when t = Relu6(x + 3) (Add/AddV2 either order); adds the nodes to {@code nodes}. */
  boolean isRelu6OfXPlus3(TensorName t, TensorName x, List<String> nodes) {
    Optional<NodeDef> r6 = producer(t, "Relu6");
    if (r6.isEmpty()) {
      return false;
    }
    Optional<NodeDef> add = producer(in(r6.get(), 0));
    if (add.isEmpty() || !isAdd(add.get())) {
      return false;
    }
    for (int i = 0; i < 2; i++) {
      if (in(add.get(), i).equals(x) && isConstNear(in(add.get(), 1 - i), 3.0, HALF_PRECISION)) {
        nodes.add(r6.get().getName());
        nodes.add(add.get().getName());
        return true;
      }
    }
    return false;
  }

  /** True when t = 1 + f(...) with f of op fOp (Add/AddV2 either order). */
  boolean isOnePlus(TensorName t, String fOp) {
    return producer(t).filter(this::isAdd).flatMap(a -> onePlusArgument(a, fOp)).isPresent();
  }

  /** The f node of {@code add = 1 + f(...)}. */
  Optional<NodeDef> onePlusArgument(NodeDef add, String fOp) {
    for (int i = 0; i < 2; i++) {
      if (isConstValue(in(add, 1 - i), 1.0)) {
        Optional<NodeDef> f = producer(in(add, i), fOp);
        if (f.isPresent()) {
          return f;
        }
      }
    }
    return Optional.empty();
  }

  /**
   * Splits {@code top = 0.5 * x * onePlus} in its groupings (0.5 x)(1+f), x (0.5 (1+f)), 0.5 (x
   * (1+f)) and (x (1+f)) 0.5, any operand order; returns {x, onePlus} and adds the inner Mul to
   * nodes.
   */
  Optional<TensorName[]> halfTimesXTimesOnePlus(NodeDef top, String fOp, List<String> nodes) {
    for (int i = 0; i < 2; i++) {
      TensorName a = in(top, i);
      TensorName b = in(top, 1 - i);
      Optional<NodeDef> bn = producer(b);
      if (bn.isEmpty() || !isMul(bn.get())) {
        continue;
      }
      for (int j = 0; j < 2; j++) {
        TensorName b0 = in(bn.get(), j);
        TensorName b1 = in(bn.get(), 1 - j);
        TensorName x = null;
        TensorName onePlus = null;
        if (isConstValue(a, 0.5) && isOnePlus(b1, fOp)) {
          x = b0; // 0.5 * (x * (1+f))
          onePlus = b1;
        } else if (isOnePlus(a, fOp) && isConstValue(b1, 0.5)) {
          x = b0; // (1+f) * (x * 0.5)
          onePlus = a;
        } else if (isConstValue(b0, 0.5) && isOnePlus(b1, fOp)) {
          x = a; // x * (0.5 * (1+f))
          onePlus = b1;
        }
        if (x != null && !isConstValue(x, 0.5)) {
          nodes.add(bn.get().getName());
          return Optional.of(new TensorName[] {x, onePlus});
        }
      }
    }
    return Optional.empty();
  }

  /** True when t is x or computed from x within {@code depth} ops. */
  boolean dependsOnWithin(TensorName t, TensorName x, int depth) {
    return walk(t, x, depth, null);
  }

  /** The nodes on the paths from x (exclusive) to t (inclusive), within depth ops. */
  List<String> nodesBetween(TensorName t, TensorName x, int depth) {
    Set<String> out = new LinkedHashSet<>();
    walk(t, x, depth, out);
    return new ArrayList<>(out);
  }

  /**
   * True when t is x or computed from x within {@code depth} ops (data inputs only). With {@code
   * out} null it stops at the first path found; else it follows every path and adds the nodes on
   * them to {@code out}, inputs before consumers.
   */
  private boolean walk(TensorName t, TensorName x, int depth, Set<String> out) {
    if (t.equals(x)) {
      return true;
    }
    if (depth == 0) {
      return false;
    }
    Optional<NodeDef> n = producer(t);
    if (n.isEmpty()) {
      return false;
    }
    boolean any = false;
    for (String in : n.get().getInputList()) {
      if (!in.startsWith("^") && walk(TensorName.parse(in), x, depth - 1, out)) {
        any = true;
        if (out == null) {
          return true;
        }
      }
    }
    if (any) {
      out.add(n.get().getName());
    }
    return any;
  }

  /** True when the f node's input is x * scale (Mul either order) or x / (1/scale). */
  boolean isScaledInput(NodeDef f, TensorName x, double scale) {
    Optional<NodeDef> s = producer(in(f, 0));
    return s.flatMap(n -> scaledBy(n, scale)).filter(x::equals).isPresent();
  }
}
