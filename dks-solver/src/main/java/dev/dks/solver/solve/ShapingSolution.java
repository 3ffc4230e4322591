package dev.dks.solver.solve;

import java.util.Map;

/**
 * The result of one DKS or TAT solve for a set of activations in one network.
 *
 * @param method the method
 * @param localTarget the per-layer target derived from the network target by bisection: xi (DKS
 *     local C'(1)), tau_loc (TAT local C''(1)); for TAT with leaky ReLU the slope s; NaN for
 *     untransformed
 * @param activations the shaped activations by id, in request order
 */
public record ShapingSolution(
    Method method, double localTarget, Map<String, ShapedActivation> activations) {

  /** The shaped activation with this id. */
  public ShapedActivation get(String id) {
    ShapedActivation a = activations.get(id);
    if (a == null) {
      throw new IllegalArgumentException("no activation '" + id + "' in this solution; it has "
          + activations.keySet());
    }
    return a;
  }
}
