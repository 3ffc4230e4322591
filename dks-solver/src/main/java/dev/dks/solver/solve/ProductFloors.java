package dev.dks.solver.solve;

import dev.dks.solver.network.NetworkMaps;
import java.util.Locale;

/**
 * The network targets of DKS and TAT when the network multiplies streams ({@code
 * Dag.Kind#PRODUCT}, e.g. squeeze-and-excitation gates).
 *
 * <p>Why: a product's C map is the product of its factors' ({@code C_z = C_a C_b}), so its C'(1) is
 * the sum of theirs. DKS's activations have C(0) = 0 and hence C'(1) at least 1, TAT's smooth ones
 * C'(1) = 1, so a product of two streams has C'(1) at least 2 and the network's maximal C'(1) is at
 * least {@code mu(1) > 1} (and its C''(1) at least {@code kappa(0) > 0}) whatever the activations:
 * no local shaping reaches zeta = 1.5 or tau = 0.3 once a product sits on the maximal path. The
 * solvers therefore aim the part the activations control at the user's target: DKS solves
 * {@code mu(xi) = zeta mu(1)} (a chain without products: {@code mu(1) = 1}, the reference's
 * target) and TAT {@code kappa(tau_loc) = tau + kappa(0)} ({@code kappa(0) = 0} without
 * products), each with a warning that names the floor. TAT's leaky-ReLU target (a C(0)) needs no
 * floor: C values multiply at products and the maximal C(0) stays increasing in the slope.
 */
final class ProductFloors {
  private ProductFloors() {}

  /** The DKS network C'(1) target for {@code zeta}: {@code zeta mu(1)}; zeta without products. */
  static double zeta(NetworkMaps network, double zeta) {
    return network.hasProducts() ? zeta * network.maxSlope(1.0) : zeta;
  }

  /** The TAT network C''(1) target for {@code tau}: {@code tau + kappa(0)}; tau without products. */
  static double tau(NetworkMaps network, double tau) {
    return network.hasProducts() ? tau + network.maxCurvature(0.0) : tau;
  }

  /** The warning of a DKS solve with products (null without). */
  static String dksWarning(NetworkMaps network, double zeta) {
    if (!network.hasProducts()) {
      return null;
    }
    double floor = network.maxSlope(1.0);
    return String.format(Locale.ROOT, "the network multiplies streams (gates): its C'(1) is at "
        + "least %.4g with any activations (linear ones), so zeta %.4g is out of reach; the "
        + "activations were solved for zeta x %.4g = %.4g", floor, zeta, floor, zeta * floor);
  }

  /** The warning of a TAT smooth solve with products (null without). */
  static String tatWarning(NetworkMaps network, double tau) {
    if (!network.hasProducts()) {
      return null;
    }
    double floor = network.maxCurvature(0.0);
    return String.format(Locale.ROOT, "the network multiplies streams (gates): its C''(1) is at "
        + "least %.4g and its C'(1) above 1 with any activations; the activations were solved "
        + "for tau + %.4g = %.4g", floor, floor, tau + floor);
  }
}
