package dev.dks.solver.solve;

import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.ShapingParams;
import dev.dks.solver.activation.TransformedActivation;
import java.util.List;

/**
 * One solved activation: its parameters, the local and network kernel values they produce, and how
 * the solve went.
 *
 * @param base the raw activation (leaky ReLU with its original slope)
 * @param params the shaping parameters
 * @param local the shaped activation's local Q/C values, recomputed after the solve
 * @param network the network-level values the targets refer to
 * @param startIndex index (0-based) of the start point that succeeded, -1 where no root solve ran
 * @param evaluations residual evaluations spent by the root solve (all starts)
 * @param warnings notes for the user (partial support, reference quirks), empty when none
 * @param chainMatchedTarget the per-layer target this activation was solved for when the solve
 *     matched it under the structure's depthwise chains ({@code Dag.Node#chain}): DKS xi or TAT
 *     tau_loc giving this activation's network C'(1) zeta or C''(1) tau under the chains' own
 *     maps; NaN when the activation was solved for the solution's {@link
 *     ShapingSolution#localTarget()} (no chains, TAT's leaky ReLU, whose slope the chains enter
 *     directly, or a failed match, which adds a warning)
 */
public record ShapedActivation(
    Activation base,
    ShapingParams params,
    KernelValues local,
    NetworkKernelValues network,
    int startIndex,
    int evaluations,
    List<String> warnings,
    double chainMatchedTarget) {

  /** A solve for the solution's per-layer target (no chain-matched one). */
  public ShapedActivation(Activation base, ShapingParams params, KernelValues local,
      NetworkKernelValues network, int startIndex, int evaluations, List<String> warnings) {
    this(base, params, local, network, startIndex, evaluations, warnings, Double.NaN);
  }

  /** The shaped activation as a function. */
  public TransformedActivation transformed() {
    return new TransformedActivation(base, params);
  }
}
