package dev.dks.rewriter.analysis;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;

/**
 * ReLU and leaky ReLU written with one float {@code Maximum}, as hand-written TF1 models do
 * (Vespa's MNIST: {@code tf.maximum(0.01 * z, z)}): {@code Maximum(x, 0)} is a {@code relu} site
 * and {@code Maximum(Mul(a, x), x)} a {@code leaky_relu} site with slope a (a scalar constant, 0
 * &lt; a &lt; 1, so the maximum picks x for x &ge; 0 and a x below), operands of the Maximum and
 * of the Mul in either order; the Mul must be read only by the Maximum. The zero and a are not part
 * of the site.
 *
 * <p>Forms other matchers own are left to them: a Maximum against 0 that reads or feeds another
 * clamp step (a clip chain, {@link ClipMatcher}) or is the positive part of a PReLU (
 * {@link PreluMaxMin}).
 */
final class MaximumMatcher {
  private static final Set<DataType> FLOATS =
      Set.of(DataType.DT_FLOAT, DataType.DT_DOUBLE, DataType.DT_HALF, DataType.DT_BFLOAT16);

  private MaximumMatcher() {}

  /** The site whose output is {@code max}, if it is one of these forms. */
  static Optional<ActivationSite> match(GraphView g, OpPatterns p, NodeDef max) {
    if (!max.getOp().equals("Maximum") || max.getInputCount() != 2 || !isFloat(max)) {
      return Optional.empty();
    }
    for (int i = 0; i < 2; i++) {
      TensorName x = p.in(max, i);
      TensorName other = p.in(max, 1 - i);
      if (p.isConstValue(other, 0.0) && p.constValue(x).isEmpty()) {
        return ownedElsewhere(g, p, max, x) ? Optional.empty()
            : Optional.of(new ActivationSite("relu", Double.NaN, x, max.getName(),
                List.of(max.getName())));
      }
      Optional<NodeDef> mul = p.producer(other).filter(p::isMul);
      if (mul.isEmpty() || other.index() != 0
          || !g.consumers(mul.get().getName()).equals(List.of(max.getName()))) {
        continue;
      }
      for (int j = 0; j < 2; j++) {
        Optional<Double> a = p.constValue(p.in(mul.get(), j));
        if (a.isPresent() && a.get() > 0 && a.get() < 1 && p.in(mul.get(), 1 - j).equals(x)) {
          return Optional.of(new ActivationSite("leaky_relu", a.get(), x, max.getName(),
              List.of(max.getName(), mul.get().getName())));
        }
      }
    }
    return Optional.empty();
  }

  private static boolean isFloat(NodeDef n) {
    return !n.containsAttr("T") || FLOATS.contains(n.getAttrOrThrow("T").getType());
  }

  /**
   * True when Maximum(x, 0) is part of a form another matcher owns: x comes from a clamp step, or
   * a reader is a clamp step or the Add of a PReLU.
   */
  private static boolean ownedElsewhere(GraphView g, OpPatterns p, NodeDef max, TensorName x) {
    if (p.producer(x).filter(n -> isClampStep(p, n)).isPresent()) {
      return true;
    }
    for (String r : g.consumers(max.getName())) {
      NodeDef reader = g.get(r);
      if (isClampStep(p, reader) || PreluMaxMin.match(p, reader).isPresent()) {
        return true;
      }
    }
    return false;
  }

  /** Relu, Relu6, or Minimum/Maximum with a scalar float constant operand. */
  private static boolean isClampStep(OpPatterns p, NodeDef n) {
    String op = n.getOp();
    if (op.equals("Relu") || op.equals("Relu6")) {
      return true;
    }
    return (op.equals("Minimum") || op.equals("Maximum")) && n.getInputCount() == 2
        && (p.constValue(p.in(n, 0)).isPresent() || p.constValue(p.in(n, 1)).isPresent());
  }
}
