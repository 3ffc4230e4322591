package dev.dks.solver.solve;

import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.ShapingParams;
import dev.dks.solver.activation.TransformedActivation;
import dev.dks.solver.maps.GaussianMoments;
import dev.dks.solver.maps.LeakyReluCMap;
import dev.dks.solver.maps.LeakyReluChainCMap;
import dev.dks.solver.network.NetworkMaps;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * Tailored Activation Transformation ({@code dks-math.md} section 5).
 *
 * <p>Smooth activations: tau_loc with {@code kappa(tau_loc) = tau} by bisection, then unknowns
 * (alpha, beta, delta) with Q'(1) = 1, C'(1) = 1, C''(1) = tau_loc and gamma giving Q(1) = 1;
 * solutions with {@code alpha * gamma >= 2} are rejected (the reference's rule against unstable Q
 * maps). Activations whose first derivative jumps (relu, selu) have infinite C''(1) and are
 * refused; relu is refused outright as in the reference.
 *
 * <p>Leaky ReLU (TReLU): {@code sqrt(2/(1+s^2)) LReLU_s}, with s chosen by bisection so that the
 * maximal network C(0), computed with the closed-form C map, equals eta. It must be the only
 * activation of the solve, and the network must be given as a structure. Layers that end a
 * depthwise chain ({@code Dag.Node#chain}) map the c at the chain's start by the chain's own
 * closed form ({@link LeakyReluChainCMap}), as the kernel check predicts: their pre-activations
 * are not Gaussian, and the composition of the layers' maps would overstate the network's C(0)
 * (a rewritten MobileNetV2 solved by composition for eta 0.9 has 0.877). Smooth activations on
 * such a structure: tau_loc is found per activation so that the network C''(1), with the chains'
 * own maps, is tau ({@link #chainedCurvatureTarget}; {@link ShapedActivation#chainMatchedTarget()},
 * while the solution's {@link ShapingSolution#localTarget()} stays the Gaussian tau_loc).
 */
public final class TatSolver {
  /** TAT rejects solutions with input scale times output scale at or above this. */
  public static final double MAX_SCALE_PRODUCT = 2.0;

  private TatSolver() {}

  /** Solves for every activation (duplicates by id are solved once). */
  public static ShapingSolution solve(
      List<Activation> activations, NetworkMaps network, TatTargets targets) {
    List<Activation> unique = new ArrayList<>();
    List<String> ids = new ArrayList<>();
    for (Activation a : activations) {
      if (!ids.contains(a.id())) {
        ids.add(a.id());
        unique.add(a);
      }
    }
    boolean hasLeaky = unique.stream().anyMatch(a -> ActivationKind.of(a) == ActivationKind.LEAKY_RELU);
    for (Activation a : unique) {
      if (ActivationKind.of(a) == ActivationKind.RELU) {
        throw new UnsupportedActivationException("TAT does not support relu (its C map cannot be "
            + "tailored): use leaky_relu, which TAT turns into a TReLU, or use DKS");
      }
      if (hasLeaky && unique.size() > 1) {
        throw new UnsupportedActivationException("under TAT, leaky_relu must be the only "
            + "activation of the network, but the request also has " + ids
            + ": solve leaky_relu alone or use smooth activations only");
      }
      if (!hasLeaky && !a.smoothness().hasFiniteCurvature()) {
        throw new UnsupportedActivationException("TAT for smooth activations needs a finite "
            + "C''(1), but the first derivative of '" + a.id() + "' jumps, so C''(1) is "
            + "infinite: use a smooth activation (e.g. elu, softplus, tanh), leaky_relu alone, "
            + "or DKS");
      }
    }
    Map<String, ShapedActivation> out = new LinkedHashMap<>();
    if (hasLeaky) {
      double eta = targets.eta();
      List<String> warnings = new ArrayList<>();
      if (targets.etaAuto()) {
        double max = maxEta(network);
        if (eta > max) {
          warnings.add(String.format(java.util.Locale.ROOT, "eta %s is out of reach for this "
              + "network (its largest C(0) is %.6f, reached by ReLU: TReLU slope 0): solved for "
              + "eta = %.6f by the auto rule", eta, max, max));
          eta = max;
        }
      }
      double s = leakySlope(network, eta);
      out.put(unique.get(0).id(), leakyResult(unique.get(0), s, network, warnings));
      return new ShapingSolution(Method.TAT, s, out);
    }
    double tau = targets.tau();
    String productNote = ProductNote.of(network, "tau " + tau);
    double tauLoc = localCurvatureTarget(network, tau);
    for (Activation a : unique) {
      double t = tauLoc;
      double matched = Double.NaN;
      String note = null;
      Map<Double, ShapedActivation> tried = new HashMap<>();
      if (network.hasChains()) {
        try {
          t = chainedCurvatureTarget(a, tauLoc, tau, targets, network, tried);
          matched = t;
        } catch (ShapingException e) {
          note = "the depthwise chains' maps: " + e.getMessage() + "; solved with every layer "
              + "taken as Gaussian (tau_loc " + tauLoc + ")";
        }
      }
      ShapedActivation sa = tried.get(t);
      sa = sa != null ? sa : solveSmooth(a, t, targets, network);
      out.put(a.id(), SolverSupport.withWarning(SolverSupport.withWarning(
          SolverSupport.withChainMatchedTarget(sa, matched), note), productNote));
    }
    return new ShapingSolution(Method.TAT, tauLoc, out);
  }

  /**
   * The per-layer C''(1) that gives {@code base}'s network C''(1) tau when the structure's
   * depthwise chains take their own maps ({@code SignAveragedMaps}), from tau_loc, the value
   * when every layer is taken as Gaussian. Each activation gets its own. The solve at every point
   * tried is recorded in {@code tried} (the point returned is not solved again).
   */
  private static double chainedCurvatureTarget(Activation base, double tauLoc, double tau,
      TatTargets targets, NetworkMaps network, Map<Double, ShapedActivation> tried) {
    return SolverSupport.matchNetworkValue(t -> {
      ShapedActivation sa = solveSmooth(base, t, targets, network);
      tried.put(t, sa);
      return sa.network().cCurvature1();
    }, tau, tauLoc, false, "the network C''(1) of '" + base.id() + "'");
  }

  /** tau_loc: the per-layer C''(1) such that the network's maximal C''(1) is tau. */
  public static double localCurvatureTarget(NetworkMaps network, double tau) {
    return Bisection.solveIncreasing(network::maxCurvature, tau, 0.1, 0.0,
        Double.POSITIVE_INFINITY, Bisection.DEFAULT_TOLERANCE, Bisection.DEFAULT_MAX_EVALUATIONS,
        "could not find a per-layer C''(1) giving the network C''(1) tau = " + tau
            + ": the maximal curvature function may not be increasing; check the structure");
  }

  /**
   * The largest network C(0) a TReLU reaches on this network: the TReLU C map's C(0), {@code
   * (1-s)^2 / (pi (1+s^2))} per layer, falls with the slope s, so the maximum is at s = 0 (ReLU,
   * scaled by sqrt 2): 1/pi for one layer, growing towards 1 with depth. Targets above it cannot
   * be met; at it the solved slope is 0.
   */
  public static double maxEta(NetworkMaps network) {
    return networkC0(network, 0.0);
  }

  /**
   * The network's maximal C(0) with TReLU slope s: each layer's closed-form C map, and each
   * depthwise chain's ({@link LeakyReluChainCMap}) at the layers that end one.
   */
  public static double networkC0(NetworkMaps network, double s) {
    if (!network.hasChains()) {
      return network.maxC0(new LeakyReluCMap(s)::apply);
    }
    LeakyReluChainCMap[] chains = new LeakyReluChainCMap[network.longestChain() + 1];
    for (int n = 1; n < chains.length; n++) {
      chains[n] = new LeakyReluChainCMap(s, n);
    }
    return network.maxC0(new LeakyReluCMap(s)::apply, n -> chains[n]::apply);
  }

  /** The leaky ReLU slope s whose network maximal C(0) is eta. */
  public static double leakySlope(NetworkMaps network, double eta) {
    double max = maxEta(network);
    if (eta > max + Bisection.DEFAULT_TOLERANCE) {
      throw new UnreachableTargetException(String.format(java.util.Locale.ROOT, "no leaky ReLU "
          + "slope in [0, 1] gives the network C(0) eta = %s: the largest this network reaches "
          + "is %.6f (ReLU, TReLU slope 0), it is too shallow for this target; use eta <= %.4f "
          + "(dks: --eta %.4f, or --eta auto) or a deeper network", eta, max,
          Math.floor(max * 1e4) / 1e4, Math.floor(max * 1e4) / 1e4));
    }
    return Bisection.solveIncreasing(
        s -> 1.0 - networkC0(network, s), 1.0 - eta, 0.5, 0.0, 1.0,
        Bisection.DEFAULT_TOLERANCE, Bisection.DEFAULT_MAX_EVALUATIONS,
        "no leaky ReLU slope in [0, 1] gives the network C(0) eta = " + eta
            + ": the network is too shallow for this target (one layer reaches at most 1/pi at "
            + "slope 0); use a smaller eta or a deeper network");
  }

  private static ShapedActivation leakyResult(Activation base, double s, NetworkMaps network,
      List<String> warnings) {
    LeakyReluCMap cmap = new LeakyReluCMap(s);
    ShapingParams params =
        new ShapingParams(1.0, 0.0, 0.0, cmap.outputScale(), OptionalDouble.of(s));
    KernelValues local = KernelValues.of(new TransformedActivation(base, params));
    double c0 = networkC0(network, s);
    double[] jet = SolverSupport.networkJet(network, local);
    return new ShapedActivation(base, params, local, new NetworkKernelValues(jet[0], jet[1], c0),
        -1, 0, List.copyOf(warnings));
  }

  /** The smooth activation's TAT solve at one per-layer C''(1), with its network values. */
  static ShapedActivation solveSmooth(
      Activation base, double tauLoc, TatTargets targets, NetworkMaps network) {
    String failure = "no TAT parameters for '" + base.id() + "' meet Q'(1) = 1, C'(1) = 1 and "
        + "C''(1) = tau_loc = " + tauLoc + " from any of " + StartPoints.TOTAL
        + " start points (or only with input_scale * output_scale >= " + MAX_SCALE_PRODUCT
        + "): use another tau (now " + targets.tau() + "), a different depth, or another "
        + "activation";
    RootSearch.Outcome o = RootSearch.run(
        x -> residuals(base, ShapingParams.of(x[0], x[1], x[2], 1), tauLoc),
        List.of(Unknown.INPUT_SCALE, Unknown.INPUT_SHIFT, Unknown.OUTPUT_SHIFT),
        x -> x[0] * outputScale(base, ShapingParams.of(x[0], x[1], x[2], 1)) >= MAX_SCALE_PRODUCT,
        "input_scale * output_scale >= " + MAX_SCALE_PRODUCT, failure);
    double alpha = o.x()[0];
    double beta = o.x()[1];
    double delta = o.x()[2];
    if (ActivationKind.of(base) == ActivationKind.PERIODIC) {
      beta = ActivationKind.reduceShift(beta);
    }
    ShapingParams inner = ShapingParams.of(alpha, beta, delta, 1);
    ShapingParams params = inner.withOutputScale(outputScale(base, inner));
    TransformedActivation shaped = new TransformedActivation(base, params);
    KernelValues local = KernelValues.of(shaped);
    double[] jet = SolverSupport.networkJet(network, local, shaped);
    return new ShapedActivation(base, params, local,
        new NetworkKernelValues(jet[0], jet[1], Double.NaN), o.startIndex(), o.evaluations(),
        o.warnings());
  }

  private static double outputScale(Activation base, ShapingParams inner) {
    return 1.0 / Math.sqrt(GaussianMoments.of(new TransformedActivation(base, inner)).meanSquare());
  }

  private static double[] residuals(Activation base, ShapingParams inner, double tauLoc) {
    GaussianMoments m = GaussianMoments.of(new TransformedActivation(base, inner));
    double g2 = 1.0 / m.meanSquare();
    return new double[] {
      g2 * m.qSlopeMoment() - 1.0,
      g2 * m.meanSquareDerivative() - 1.0,
      g2 * m.meanSquareSecondDerivative() - tauLoc
    };
  }
}
