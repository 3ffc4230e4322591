package dev.dks.rewriter.analysis;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.tensorflow.proto.NodeDef;

/**
 * ReLU6 written out as clamps: a chain of Minimum/Maximum with a scalar constant, Relu and Relu6
 * (each read only by the next) whose composition is {@code clip(x, 0, 6)}: {@code
 * Minimum(Maximum(x, 0), 6)}, {@code Maximum(Minimum(x, 6), 0)} ({@code tf.clip_by_value}),
 * {@code Minimum(Relu(x), 6)}, and Keras' {@code relu(max_value=6)} as {@code
 * Maximum(Minimum(Relu(x), 6), 0)} (faceres-deep), constants on either side. The chain is one
 * activation site of kind {@code relu6} from its outermost node, so the shaped activation replaces
 * all of it (a clamp left after a shaped activation would cut its negative part). A chain that
 * clamps to other bounds is not an activation the rewrite knows: {@link #clampBounds} lets the
 * analysis name it.
 */
final class ClipMatcher {
  private static final Set<String> CLAMPS = Set.of("Minimum", "Maximum");

  private final GraphView g;
  private final OpPatterns p;

  ClipMatcher(GraphView g, OpPatterns p) {
    this.g = g;
    this.p = p;
  }

  /** The relu6 site whose outermost node is {@code top}, if the chain from it is one. */
  Optional<ActivationSite> match(NodeDef top) {
    Optional<Chain> c = chain(top);
    if (c.isEmpty() || c.get().lo() != 0 || c.get().hi() != 6) {
      return Optional.empty();
    }
    return Optional.of(new ActivationSite("relu6", Double.NaN, c.get().x(), top.getName(),
        c.get().nodes()));
  }

  /**
   * {lo, hi} when {@code top} is the outermost node of a clamp chain with at least one
   * Minimum/Maximum and at least two nodes, else empty.
   */
  Optional<double[]> clampBounds(NodeDef top) {
    return chain(top).map(c -> new double[] {c.lo(), c.hi()});
  }

  /** A clamp chain: its input, bounds, and nodes from the outermost in. */
  private record Chain(TensorName x, double lo, double hi, List<String> nodes) {}

  private Optional<Chain> chain(NodeDef top) {
    if (!CLAMPS.contains(top.getOp()) || continuesInto(top)) {
      return Optional.empty();
    }
    List<String> nodes = new ArrayList<>();
    List<double[]> steps = new ArrayList<>(); // {isMax ? 1 : 0, bound}, outermost first
    NodeDef n = top;
    TensorName x = null;
    while (true) {
      Optional<double[]> step = step(n);
      if (step.isEmpty()) {
        break;
      }
      nodes.add(n.getName());
      steps.add(step.get());
      x = operand(n);
      Optional<NodeDef> next = p.producer(x);
      if (next.isEmpty() || x.index() != 0 || g.consumers(next.get().getName()).size() != 1
          || step(next.get()).isEmpty()) {
        break;
      }
      n = next.get();
    }
    boolean clamp = nodes.stream().anyMatch(s -> CLAMPS.contains(g.get(s).getOp()));
    if (nodes.size() < 2 || !clamp) {
      return Optional.empty();
    }
    double lo = Double.NEGATIVE_INFINITY;
    double hi = Double.POSITIVE_INFINITY;
    for (int i = steps.size() - 1; i >= 0; i--) {
      double[] s = steps.get(i);
      for (int k = 0; k < s.length; k += 2) {
        if (s[k] == 1) {
          lo = Math.max(lo, s[k + 1]);
          hi = Math.max(hi, s[k + 1]);
        } else {
          lo = Math.min(lo, s[k + 1]);
          hi = Math.min(hi, s[k + 1]);
        }
      }
    }
    return Optional.of(new Chain(x, lo, hi, nodes));
  }

  /** True when the only reader of {@code n} is a clamp that extends the chain. */
  private boolean continuesInto(NodeDef n) {
    List<String> readers = g.consumers(n.getName());
    if (readers.size() != 1) {
      return false;
    }
    NodeDef r = g.get(readers.get(0));
    return CLAMPS.contains(r.getOp()) && step(r).isPresent()
        && operand(r).equals(TensorName.of(n.getName()));
  }

  /**
   * What one node of a chain does, as pairs {1 = max / 0 = min, bound} applied in order: Relu is
   * max 0, Relu6 max 0 then min 6, Minimum/Maximum with a scalar constant their bound.
   */
  private Optional<double[]> step(NodeDef n) {
    switch (n.getOp()) {
      case "Relu":
        return Optional.of(new double[] {1, 0});
      case "Relu6":
        return Optional.of(new double[] {1, 0, 0, 6});
      case "Minimum":
      case "Maximum":
        if (n.getInputCount() < 2) {
          return Optional.empty();
        }
        int isMax = n.getOp().equals("Maximum") ? 1 : 0;
        for (int i = 0; i < 2; i++) {
          Optional<Double> v = p.constValue(p.in(n, i));
          if (v.isPresent() && p.constValue(p.in(n, 1 - i)).isEmpty()) {
            return Optional.of(new double[] {isMax, v.get()});
          }
        }
        return Optional.empty();
      default:
        return Optional.empty();
    }
  }

  /** The non-constant operand of a chain node. */
  private TensorName operand(NodeDef n) {
    if (n.getOp().startsWith("Relu")) {
      return p.in(n, 0);
    }
    return p.constValue(p.in(n, 0)).isPresent() ? p.in(n, 1) : p.in(n, 0);
  }
}
