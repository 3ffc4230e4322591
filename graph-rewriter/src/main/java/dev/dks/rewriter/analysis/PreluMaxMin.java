package dev.dks.rewriter.analysis;

import dev.dks.rewriter.graph.TensorName;
import java.util.List;
import java.util.Optional;
import org.tensorflow.proto.NodeDef;

/**
 * PReLU written with Maximum and Minimum, as the TF.js converter emits it for MXNet/ONNX-born
 * models (mobileface): {@code Add(Maximum(x, 0), Mul(alpha, Minimum(x, 0)))}, AddV2 or Add, every
 * operand order, the positive part also as {@code Relu(x)}. It computes {@code x} where {@code x
 * >= 0} and {@code alpha * x} elsewhere, the same function as the reader's split of TF.js's Prelu
 * ({@code relu(x) - alpha * relu(-x)}, since {@code min(x, 0) = -relu(-x)}), so it is the same
 * activation kind, {@code prelu}. alpha must not be computed from x (a per-channel value); the
 * zero constants and alpha are not part of the site.
 */
final class PreluMaxMin {
  /** How far back alpha may not depend on x (a gate computed from x is no slope). */
  private static final int ALPHA_DEPTH = 4;

  private PreluMaxMin() {}

  /** The site whose output is {@code add}, if it is this form. */
  static Optional<ActivationSite> match(OpPatterns p, NodeDef add) {
    if (!p.isAdd(add) || add.getOp().equals("AddN") || add.getInputCount() != 2) {
      return Optional.empty();
    }
    for (int i = 0; i < 2; i++) {
      Optional<NodeDef> pos = p.producer(p.in(add, i));
      Optional<NodeDef> mul = p.producer(p.in(add, 1 - i)).filter(p::isMul);
      if (pos.isEmpty() || mul.isEmpty()) {
        continue;
      }
      Optional<TensorName> x = positivePart(p, pos.get(), p.in(add, i));
      if (x.isEmpty()) {
        continue;
      }
      for (int j = 0; j < 2; j++) {
        Optional<NodeDef> min = p.producer(p.in(mul.get(), j), "Minimum");
        TensorName alpha = p.in(mul.get(), 1 - j);
        if (min.isPresent() && againstZero(p, min.get()).filter(x.get()::equals).isPresent()
            && !p.dependsOnWithin(alpha, x.get(), ALPHA_DEPTH)) {
          return Optional.of(new ActivationSite("prelu", Double.NaN, x.get(), add.getName(),
              List.of(add.getName(), pos.get().getName(), mul.get().getName(),
                  min.get().getName())));
        }
      }
    }
    return Optional.empty();
  }

  /** x when {@code n} (producing tensor {@code t}) is Maximum(x, 0), Maximum(0, x) or Relu(x). */
  private static Optional<TensorName> positivePart(OpPatterns p, NodeDef n, TensorName t) {
    if (t.index() != 0) {
      return Optional.empty();
    }
    if (n.getOp().equals("Relu")) {
      return Optional.of(p.in(n, 0));
    }
    return n.getOp().equals("Maximum") ? againstZero(p, n) : Optional.empty();
  }

  /** x when the binary op {@code n} has operands x and a scalar constant 0, either order. */
  private static Optional<TensorName> againstZero(OpPatterns p, NodeDef n) {
    if (n.getInputCount() < 2) {
      return Optional.empty();
    }
    for (int i = 0; i < 2; i++) {
      if (p.isConstValue(p.in(n, 1 - i), 0.0) && !p.isConstValue(p.in(n, i), 0.0)) {
        return Optional.of(p.in(n, i));
      }
    }
    return Optional.empty();
  }
}
