package dev.dks.rewriter.analysis;

import dev.dks.rewriter.graph.TensorName;

/**
 * A node where two data paths from the network input join: a residual Add/AddV2, or a ConcatV2
 * (other multi-path ops are reported as warnings).
 *
 * @param node the merging node
 * @param kind {@code "residual"} or {@code "concat"}
 * @param residual for a residual merge, the input with more nonlinear layers since the input
 * @param shortcut for a residual merge, the other input (identity or projection shortcut)
 * @param residualWeight the weight already applied to the residual branch (1 when none)
 * @param shortcutWeight the weight already applied to the shortcut (1 when none)
 * @param branchDepth nonlinear layers on the residual branch beyond the shortcut's
 */
public record MergeSite(
    String node,
    String kind,
    TensorName residual,
    TensorName shortcut,
    double residualWeight,
    double shortcutWeight,
    int branchDepth) {

  /** True when the weights already satisfy residualWeight^2 + shortcutWeight^2 = 1. */
  public boolean isNormalized() {
    return Math.abs(residualWeight * residualWeight + shortcutWeight * shortcutWeight - 1) < 1e-6;
  }
}
