package dev.dks.solver.solve;

import dev.dks.solver.activation.Activation;
import dev.dks.solver.maps.SignAveragedMaps;
import dev.dks.solver.network.JetSemantics;
import dev.dks.solver.network.NetworkMaps;
import dev.dks.solver.network.Structure;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.DoubleUnaryOperator;

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
   * As {@link #networkJet(NetworkMaps, KernelValues)}, with the structure's depthwise chains
   * ({@code Dag.Node#chain}) taking the {C'(1), C''(1)} of their own maps ({@link
   * SignAveragedMaps} of {@code shaped} repeated), as the kernel check predicts.
   */
  static double[] networkJet(NetworkMaps network, KernelValues local, Activation shaped) {
    if (!network.hasChains()) {
      return networkJet(network, local);
    }
    return networkJet(network, local, chainMaps(network, shaped));
  }

  /** As {@link #networkJet(NetworkMaps, KernelValues, Activation)} with its chain maps built. */
  static double[] networkJet(NetworkMaps network, KernelValues local,
      SignAveragedMaps[] chains) {
    return network.structure().get().propagate(new double[] {1.0, 0.0},
        new JetSemantics(local.cSlope1(), local.cCurvature1(),
            n -> new double[] {chains[n].cSlope1(), chains[n].cCurvature1()}));
  }

  /** The chain maps of {@code shaped} repeated 2 to the longest chain's times, by length. */
  static SignAveragedMaps[] chainMaps(NetworkMaps network, Activation shaped) {
    SignAveragedMaps[] out = new SignAveragedMaps[network.longestChain() + 1];
    for (int n = 2; n < out.length; n++) {
      List<Activation> acts = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        acts.add(shaped);
      }
      out[n] = SignAveragedMaps.of(acts);
    }
    return out;
  }

  /** {@code sa} with one more warning, or {@code sa} itself when {@code warning} is null. */
  static ShapedActivation withWarning(ShapedActivation sa, String warning) {
    if (warning == null) {
      return sa;
    }
    List<String> w = new ArrayList<>(sa.warnings());
    w.add(warning);
    return new ShapedActivation(sa.base(), sa.params(), sa.local(), sa.network(),
        sa.startIndex(), sa.evaluations(), List.copyOf(w), sa.chainMatchedTarget());
  }

  /** {@code sa} solved for the chain-matched per-layer target {@code target} (NaN: none). */
  static ShapedActivation withChainMatchedTarget(ShapedActivation sa, double target) {
    return new ShapedActivation(sa.base(), sa.params(), sa.local(), sa.network(),
        sa.startIndex(), sa.evaluations(), sa.warnings(), target);
  }

  /**
   * The x whose network value {@code f(x)} is {@code target}, from {@code x0}, the solution when
   * every layer is taken as Gaussian: secant steps on {@code h(f(x)) - h(target)} in u = h(x),
   * starting from the proportional step {@code u1 = u0 h(target) / h(f(x0))} (exact when the
   * network value is a power (log: DKS slopes, xi^L) or a multiple (identity: TAT curvatures,
   * L tau_loc) of the local one). Throws {@link NoRootFoundException} after {@code 40} steps.
   *
   * @param log whether h is log (values and x above 1) or the identity (values and x above 0)
   */
  static double matchNetworkValue(DoubleUnaryOperator f, double target, double x0,
      boolean log, String what) {
    DoubleUnaryOperator h = log ? Math::log : v -> v;
    DoubleUnaryOperator inv = log ? Math::exp : v -> v;
    double ht = h.applyAsDouble(target);
    double u0 = h.applyAsDouble(x0);
    double g0 = h.applyAsDouble(f.applyAsDouble(x0)) - ht;
    if (Math.abs(g0) <= 1e-12 * Math.abs(ht)) {
      return x0;
    }
    double u1 = u0 * ht / (g0 + ht);
    for (int it = 0; it < 40; it++) {
      double g1 = h.applyAsDouble(f.applyAsDouble(inv.applyAsDouble(u1))) - ht;
      if (!Double.isFinite(g1)) {
        break;
      }
      if (Math.abs(g1) <= 1e-12 * Math.abs(ht)) {
        return inv.applyAsDouble(u1);
      }
      double next = g1 == g0 ? u1 : u1 - g1 * (u1 - u0) / (g1 - g0);
      if (!(next > 0) || !Double.isFinite(next)) {
        next = u1 / 2; // stay where h is defined (x above 1 or 0)
      }
      u0 = u1;
      g0 = g1;
      u1 = next;
    }
    throw new NoRootFoundException("could not match " + what + " = " + target
        + " with the depthwise chains' own maps (started from " + x0 + ")");
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

  /**
   * As {@link #networkC0Linearized(NetworkMaps, KernelValues)}, with the depthwise chains mapped
   * by their own C maps (not linearized: a chain's C(0) is not 0).
   */
  static double networkC0Linearized(NetworkMaps network, KernelValues local,
      Activation shaped) {
    if (network.structure().isEmpty() || !network.hasChains()) {
      return networkC0Linearized(network, local);
    }
    return networkC0Linearized(network, local, chainMaps(network, shaped));
  }

  /**
   * As {@link #networkC0Linearized(NetworkMaps, KernelValues, Activation)} with its chain maps
   * built (a structure with chains).
   */
  static double networkC0Linearized(NetworkMaps network, KernelValues local,
      SignAveragedMaps[] chains) {
    // a chain's C map is a nested quadrature per value; the candidates of a structure's maximum
    // (one DAG per output, sharing their layers) ask for the same values again
    DoubleUnaryOperator[] memo = new DoubleUnaryOperator[chains.length];
    for (int n = 0; n < chains.length; n++) {
      if (chains[n] != null) {
        memo[n] = memoized(chains[n]::c);
      }
    }
    return network.propagate(0.0, c -> local.c0() + local.cSlope0() * c, n -> memo[n]);
  }

  /** {@code f} remembering its values by argument (f must be a function of its argument). */
  static DoubleUnaryOperator memoized(DoubleUnaryOperator f) {
    Map<Double, Double> seen = new HashMap<>();
    return x -> seen.computeIfAbsent(x, f::applyAsDouble);
  }
}
