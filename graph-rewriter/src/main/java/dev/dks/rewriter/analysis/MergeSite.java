package dev.dks.rewriter.analysis;

import dev.dks.rewriter.graph.TensorName;
import java.util.List;

/**
 * A node where data paths from the network input join: a residual merge (an Add/AddV2 of two body
 * tensors of the same static shape, an AddN of k of them, or a chain of such adds, which
 * grappler's ArithmeticOptimizer writes for a sum of several operands), or a ConcatV2 (other
 * multi-path ops are reported as warnings).
 *
 * <p>Conventions: {@link #operands()} lists the summed tensors with the residual branch (the one
 * with most nonlinear layers since the input; the first of equally deep ones) first; {@link
 * #weights()} are the constant factors already applied to them ({@code Mul} by a scalar
 * constant; 1 when none), in the same order. For a chain, the operands are its leaves and {@link
 * #node()} is the last add; the inner adds are read only by the chain.
 *
 * @param node the merging node (for a chain, its last add)
 * @param kind {@code "residual"} or {@code "concat"}
 * @param residual for a residual merge, the operand with more nonlinear layers since the input
 * @param shortcut for a residual merge, the first other operand (identity or projection shortcut)
 * @param residualWeight the weight already applied to the residual branch (1 when none)
 * @param shortcutWeight the weight already applied to the shortcut (1 when none)
 * @param branchDepth nonlinear layers on the residual branch beyond the deepest other operand's
 * @param operands every summed tensor, residual first (two for a plain Add)
 * @param weights the weight already applied to each operand, in the order of {@code operands}
 */
public record MergeSite(
    String node,
    String kind,
    TensorName residual,
    TensorName shortcut,
    double residualWeight,
    double shortcutWeight,
    int branchDepth,
    List<TensorName> operands,
    List<Double> weights) {

  /** Copies the lists; they hold one entry per operand. */
  public MergeSite {
    operands = List.copyOf(operands);
    weights = List.copyOf(weights);
    if (operands.size() != weights.size() || operands.size() < 2) {
      throw new IllegalArgumentException("a merge needs at least two operands with one weight "
          + "each, got " + operands + " and " + weights);
    }
  }

  /** A merge of two operands. */
  public MergeSite(String node, String kind, TensorName residual, TensorName shortcut,
      double residualWeight, double shortcutWeight, int branchDepth) {
    this(node, kind, residual, shortcut, residualWeight, shortcutWeight, branchDepth,
        List.of(residual, shortcut), List.of(residualWeight, shortcutWeight));
  }

  /** True when the squared weights of the operands sum to 1. */
  public boolean isNormalized() {
    double s = 0;
    for (double w : weights) {
      s += w * w;
    }
    return Math.abs(s - 1) < 1e-6;
  }
}
