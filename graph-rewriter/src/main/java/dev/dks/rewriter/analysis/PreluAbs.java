package dev.dks.rewriter.analysis;

import dev.dks.rewriter.graph.TensorName;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.tensorflow.proto.NodeDef;

/**
 * PReLU written with Abs, as TF-slim MobileFaceNet code writes it ({@code relu(x) + alpha * (x -
 * |x|) * 0.5}; the TF.js converter folds the 0.5 into alpha): {@code Add(Relu(x), Mul(a, Sub(x,
 * Abs(x))))}, Add or AddV2, every operand order, the factor a possibly a chain of two Muls by
 * values not computed from x. Since {@code x - |x| = 2 min(x, 0)} it computes x where x >= 0 and
 * {@code 2 a x} elsewhere: kind {@code prelu}, from x to the Add.
 *
 * <p>The same tail on a ReLU's output, {@code Add(r, Mul(a, Sub(r, Abs(r))))} with {@code r =
 * Relu(z)} (mobilefacenet: the TF.js converter fused the Relu of the PReLU into the depthwise
 * convolution before it), is {@code r + 0 = relu(z)}: one site of kind {@code relu} from z to the
 * Add. Not matching it left the tail after the shaped activation, where it is no longer zero
 * ({@code phi + 2a min(phi, 0)} with the shaped leaky ReLU phi), and the analysis took the Add of
 * two functions of the same tensor for a rescaling: q grew by about 1.2 per such layer (to 19 at
 * mobilefacenet's last layer, predicted 1). Every node of a site but the Add must be read only
 * inside it (else the rewrite could not replace it).
 */
final class PreluAbs {
  /** How far back the factor may not depend on x (a gate computed from x is no slope). */
  private static final int ALPHA_DEPTH = 4;

  private PreluAbs() {}

  /** The site whose output is {@code add}, if it is one of the two forms. */
  static Optional<ActivationSite> match(OpPatterns p, NodeDef add) {
    if (!p.isAdd(add) || add.getInputCount() != 2) {
      return Optional.empty();
    }
    for (int i = 0; i < 2; i++) {
      TensorName first = p.in(add, i);
      List<String> tail = new ArrayList<>();
      Optional<TensorName> x = halfNegativePart(p, p.in(add, 1 - i), tail);
      if (x.isEmpty()) {
        continue;
      }
      Optional<NodeDef> relu = p.producer(first, "Relu");
      List<String> nodes = new ArrayList<>();
      nodes.add(add.getName());
      if (relu.isPresent() && p.in(relu.get(), 0).equals(x.get())) {
        // relu(x) + a (x - |x|): PReLU of x
        nodes.add(relu.get().getName());
        nodes.addAll(tail);
        if (!p.readOnlyWithin(nodes, add.getName())) {
          continue;
        }
        return Optional.of(new ActivationSite("prelu", Double.NaN, x.get(), add.getName(),
            nodes));
      }
      Optional<NodeDef> inner = p.producer(x.get(), "Relu");
      if (first.equals(x.get()) && inner.isPresent()) {
        // r + a (r - |r|) with r = relu(z): relu(z), the tail is zero
        nodes.add(inner.get().getName());
        nodes.addAll(tail);
        if (!p.readOnlyWithin(nodes, add.getName())) {
          continue;
        }
        return Optional.of(new ActivationSite("relu", Double.NaN, p.in(inner.get(), 0),
            add.getName(), nodes));
      }
    }
    return Optional.empty();
  }

  /**
   * x when {@code t} is {@code Mul(a, Sub(x, Abs(x)))} (or two nested Muls by factors not
   * computed from x, either order); adds the tail's nodes to {@code nodes}.
   */
  private static Optional<TensorName> halfNegativePart(OpPatterns p, TensorName t,
      List<String> nodes) {
    List<String> muls = new ArrayList<>();
    List<TensorName> factors = new ArrayList<>();
    TensorName cur = t;
    for (int depth = 0; depth < 2; depth++) {
      Optional<NodeDef> mul = p.producer(cur).filter(p::isMul);
      if (mul.isEmpty() || cur.index() != 0) {
        break;
      }
      Optional<TensorName> found = Optional.empty();
      for (int j = 0; j < 2 && found.isEmpty(); j++) {
        Optional<NodeDef> sub = p.producer(p.in(mul.get(), j), "Sub");
        Optional<TensorName> x = sub.flatMap(s -> minusAbs(p, s));
        if (x.isPresent()) {
          TensorName a = p.in(mul.get(), 1 - j);
          factors.add(a);
          for (TensorName f : factors) {
            if (p.dependsOnWithin(f, x.get(), ALPHA_DEPTH)) {
              return Optional.empty();
            }
          }
          muls.add(mul.get().getName());
          nodes.addAll(muls);
          nodes.add(sub.get().getName());
          nodes.add(p.producer(p.in(sub.get(), 1)).orElseThrow().getName());
          return x;
        }
      }
      // one more Mul level: a * (b * (x - |x|)), the operand that is a Mul goes on
      boolean next = false;
      for (int j = 0; j < 2 && !next; j++) {
        Optional<NodeDef> m2 = p.producer(p.in(mul.get(), j)).filter(p::isMul);
        if (m2.isPresent()) {
          factors.add(p.in(mul.get(), 1 - j));
          muls.add(mul.get().getName());
          cur = p.in(mul.get(), j);
          next = true;
        }
      }
      if (!next) {
        break;
      }
    }
    return Optional.empty();
  }

  /** x when {@code sub} is {@code Sub(x, Abs(x))}. */
  private static Optional<TensorName> minusAbs(OpPatterns p, NodeDef sub) {
    if (sub.getInputCount() < 2) {
      return Optional.empty();
    }
    TensorName x = p.in(sub, 0);
    return p.producer(p.in(sub, 1), "Abs").filter(a -> p.in(a, 0).equals(x)).map(a -> x);
  }
}
