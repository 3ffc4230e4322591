package dev.dks.rewriter.kernel;

import java.util.List;
import java.util.Locale;

/**
 * A predicted q (the kernel check's prediction of a tensor's mean square at initialization, at
 * the network's own widths) beyond what float32 holds: {@link #LIMIT}, {@code Float.MAX_VALUE}.
 *
 * <p>Why it happens: a product of two streams computed from the input (a gate times the features
 * it was computed from) has {@code q_z = Q_a(q) Q_b(q)}, so its Q'(1) is the sum of its factors'
 * and a q error doubles at each gate when every activation has Q'(1) = 1. The infinite-width q
 * stays 1, but the finite-width fluctuations of q grow with the gates, and their heavy tail takes
 * the mean q, which the check predicts and measures, past the float32 range: the TF.js model meet
 * (10 gates) shaped by DKS softplus at local Q'(1) = 1 had a predicted q of 5e46 at its fifth gate
 * and 4e190 at its last layer, where the measured q was NaN. Why float32's largest value: q is a
 * mean square, and a model that squares its features (a norm, a variance) overflows there; the
 * units themselves overflow at about its square.
 *
 * @param tensor the first measured tensor (in the check's order: by depth) where it happens
 * @param depth its depth (nonlinear layers from the input)
 * @param inputC the input c of the row
 * @param predictedQ the predicted q there (above {@link #LIMIT}, or not finite)
 */
public record QOverflow(String tensor, int depth, double inputC, double predictedQ) {
  /** The largest q float32 holds. */
  public static final double LIMIT = Float.MAX_VALUE;

  /** True when a predicted q is past {@link #LIMIT} or not a finite number. */
  public static boolean overflows(double predictedQ) {
    return !Double.isNaN(predictedQ) && !(predictedQ <= LIMIT);
  }

  /** The first row (rows ordered by depth) whose predicted q overflows, or null. */
  static QOverflow first(List<KernelMeasurement> rows) {
    for (KernelMeasurement r : rows) {
      if (overflows(r.predictedQ())) {
        return new QOverflow(r.tensor(), r.depth(), r.inputC(), r.predictedQ());
      }
    }
    return null;
  }

  /** One sentence: where, how large, against the limit, and why. */
  public String describe() {
    return String.format(Locale.ROOT, "the predicted q overflows float32 at '%s' (depth %d, "
        + "input c %.2f): %.3g > %.3g, so the network's activations there are not finite at "
        + "initialization; the network multiplies streams (gates), each product adding its "
        + "factors' Q'(1), so q's finite-width fluctuations grow with the number of gates",
        tensor, depth, inputC, predictedQ, LIMIT);
  }
}
