package dev.dks.solver.solve;

import dev.dks.solver.network.JetSemantics;
import dev.dks.solver.network.NetworkMaps;
import dev.dks.solver.network.Structure;
import java.util.Optional;

/** Network-level values shared by the solvers. */
final class SolverSupport {
  private SolverSupport() {}

  /**
   * {network C'(1), network C''(1)} of the maximal subnetwork from the local values; without a
   * structure, mu(local C'(1)) and, when C'(1) = 1, kappa(local C''(1)).
   */
  static double[] networkJet(NetworkMaps network, KernelValues local) {
    Optional<Structure> s = network.structure();
    if (s.isPresent()) {
      return s.get().propagate(new double[] {1.0, 0.0},
          new JetSemantics(local.cSlope1(), local.cCurvature1()));
    }
    double slope = network.maxSlope(local.cSlope1());
    return new double[] {slope, Double.NaN};
  }

  /**
   * The network's maximal C(0) when every local C(0) is (numerically) 0: propagates c through the
   * local C map linearized at 0, {@code C(c) ~ C(0) + C'(0) c}, exact to first order in C(0).
   * NaN without a structure.
   */
  static double networkC0Linearized(NetworkMaps network, KernelValues local) {
    if (network.structure().isEmpty()) {
      return Double.NaN;
    }
    return network.propagate(0.0, c -> local.c0() + local.cSlope0() * c);
  }
}
