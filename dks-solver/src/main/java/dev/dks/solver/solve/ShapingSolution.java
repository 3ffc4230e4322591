package dev.dks.solver.solve;

import java.util.Map;

/**
 * The result of one DKS or TAT solve for a set of activations in one network.
 *
 * @param method the method
 * @param localTarget the per-layer target derived from the network target by bisection: xi (DKS
 *     local C'(1)), tau_loc (TAT local C''(1)), with every layer's input taken as Gaussian; for
 *     TAT with leaky ReLU the slope s (under the depthwise chains' maps where the structure has
 *     them); NaN for untransformed. One value for the whole solve, whatever the activations and
 *     their order: on a structure with depthwise chains each smooth activation is solved for its
 *     own {@link ShapedActivation#chainMatchedTarget()}
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
