package dev.dks.solver.solve;

import dev.dks.solver.maps.SignAveragedMaps;
import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.LeakyRelu;
import dev.dks.solver.activation.ShapingParams;
import dev.dks.solver.activation.TransformedActivation;
import dev.dks.solver.maps.GaussianMoments;
import dev.dks.solver.network.NetworkMaps;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * Deep Kernel Shaping ({@code dks-math.md} section 4): finds xi with {@code mu(xi) = zeta} by the
 * reference's bisection, then per activation the parameters with Q(1) = 1 (output scale), C(0) = 0
 * (output shift = -E[phi]), Q'(1) = local Q slope target and C'(1) = xi.
 *
 * <p>Unknowns: (alpha, beta) in general; (negative slope, beta) for leaky ReLU; alpha alone for
 * ReLU, with beta fixed to +1 below xi = pi/(pi-1) and -1 above, and the Q'(1) condition dropped
 * (partial support, reported as a warning). For sin and cos the input shift is reduced into [0,
 * 2 pi).
 *
 * <p>Depthwise chains ({@code Dag.Node#chain}): the network C'(1) is computed with the chains'
 * own maps, as the kernel check predicts, and xi is found per activation so that it is zeta
 * ({@link #chainedSlopeTarget}; {@link ShapedActivation#chainMatchedTarget()}, while the
 * solution's {@link ShapingSolution#localTarget()} stays xi). The local conditions stay those of
 * a Gaussian input; a chain's Q(1) and C(0) are then not exactly 1 and 0 (the check predicts them
 * from the chain's map). When that match fails, xi is the Gaussian one and the activation carries
 * a warning saying so.
 *
 * <p>Products of streams ({@code Dag.Kind#PRODUCT}, gates): a product adds its factors' Q'(1), so
 * at the asked local Q'(1) a gated network's Q'(1) can grow as 2^gates; the local Q'(1) is then
 * lowered until the network's largest Q'(1) is zeta ({@link #productQSlope}), and kept as asked,
 * with a warning, when the activation cannot reach that value.
 */
public final class DksSolver {
  /** The largest local C'(1) a shifted ReLU reaches with a positive input shift. */
  public static final double RELU_SHIFT_SWITCH = Math.PI / (Math.PI - 1);

  private DksSolver() {}

  /** Solves for every activation (duplicates by id are solved once). */
  public static ShapingSolution solve(
      List<Activation> activations, NetworkMaps network, DksTargets targets) {
    double zeta = targets.zeta();
    double xi = localSlopeTarget(network, zeta);
    DksTargets asked = targets;
    double qSlope = productQSlope(network, targets);
    String qNote = null;
    if (qSlope != targets.localQSlope()) {
      qNote = "the network multiplies streams: each product adds its factors' Q'(1), so at a"
          + " local Q'(1) of " + targets.localQSlope() + " a q error grows " + fmt(
          network.maxQSlope(targets.localQSlope())) + "-fold at the worst node (q's finite-width"
          + " fluctuations with it); solved with local Q'(1) " + fmt(qSlope) + ", which holds"
          + " that growth at zeta " + zeta;
      targets = new DksTargets(zeta, qSlope);
    }
    Map<String, ShapedActivation> out = new LinkedHashMap<>();
    for (Activation a : activations) {
      if (!out.containsKey(a.id())) {
        ShapedActivation sa;
        String note = qNote;
        try {
          sa = solveActivation(a, xi, zeta, targets, network);
        } catch (ShapingException e) {
          if (targets == asked) {
            throw e;
          }
          // out of this activation's reach: the asked Q'(1), with the growth said
          sa = solveActivation(a, xi, zeta, asked, network);
          note = "the network multiplies streams: each product adds its factors' Q'(1), so a q "
              + "error grows " + fmt(network.maxQSlope(asked.localQSlope())) + "-fold at the "
              + "worst node; the local Q'(1) " + fmt(qSlope) + " that would hold it at zeta is "
              + "out of '" + a.id() + "''s reach (" + e.getMessage() + "), so q may overflow "
              + "at finite width: check with dks verify";
        }
        out.put(a.id(), SolverSupport.withWarning(sa, note));
      }
    }
    return new ShapingSolution(Method.DKS, xi, out);
  }

  private static String fmt(double x) {
    return String.format(java.util.Locale.ROOT, "%.4g", x);
  }

  /**
   * The local Q'(1) to solve for: the asked one, unless the network multiplies streams and its
   * largest Q'(1) at that value ({@link NetworkMaps#maxQSlope}: products add their factors'
   * slopes, so it grows as 2^gates at 1) exceeds zeta; then the smaller value at which that
   * largest Q'(1) is zeta: a q error's growth bounded whatever the depth, as DKS bounds the
   * network's C'(1) by zeta. Q = 1 stays a fixed point (Q(1) = 1 is kept by the output scale); only its stability
   * changes. Holding the growth at 1 instead would need a local Q'(1) of about 0.70 on the TF.js
   * model meet, below what softplus reaches at its per-layer C'(1) (about 0.78).
   */
  static double productQSlope(NetworkMaps network, DksTargets targets) {
    double asked = targets.localQSlope();
    double zeta = targets.zeta();
    if (!network.hasProducts() || !(network.maxQSlope(asked) > zeta)) {
      return asked;
    }
    return Bisection.solveIncreasing(network::maxQSlope, zeta, 0.9 * asked, 0.0, asked,
        1e-6, Bisection.DEFAULT_MAX_EVALUATIONS,
        "could not find a local Q'(1) holding the network's Q'(1) at zeta = " + zeta);
  }

  /** One activation's solve at the per-layer C'(1) xi (matched to the chains when there are). */
  private static ShapedActivation solveActivation(Activation a, double xi, double zeta,
      DksTargets targets, NetworkMaps network) {
    String productNote = ProductNote.of(network, "zeta " + zeta);
    double x = xi;
    double matched = Double.NaN;
    String note = null;
    Map<Double, Trial> tried = new HashMap<>();
    if (network.hasChains()) {
      try {
        x = chainedSlopeTarget(a, xi, zeta, targets, network, tried);
        matched = x;
      } catch (ShapingException e) {
        note = "the depthwise chains' maps: " + e.getMessage() + "; solved with every layer"
            + " taken as Gaussian (xi " + xi + ")";
      }
    }
    Trial t = tried.get(x);
    ShapedActivation sa = t != null ? withNetwork(t.local(), t.chains(), network)
        : solveOne(a, x, targets, network);
    return SolverSupport.withWarning(SolverSupport.withWarning(
        SolverSupport.withChainMatchedTarget(sa, matched), note), productNote);
  }

  /**
   * One point of the chained match: the local solve at a per-layer C'(1) and its chain maps, kept
   * so that the point the match returns is not solved again.
   */
  private record Trial(LocalSolve local, SignAveragedMaps[] chains) {}

  /**
   * The per-layer C'(1) that gives {@code base}'s network C'(1) zeta when the structure's
   * depthwise chains take their own maps ({@code SignAveragedMaps}: a pair's C'(1) is not the
   * square of the layers'), from xi, the value when every layer is taken as Gaussian. Each
   * activation gets its own (the network values are those of a network of that activation).
   * Every point tried is recorded in {@code tried}. Each point costs the local root search and the chain maps'
   * Gaussian moments (the network C'(1) needs only their C'(1)); the network C(0), which needs
   * the chain maps' C maps (nested quadratures), is left to the point returned.
   */
  private static double chainedSlopeTarget(Activation base, double xi, double zeta,
      DksTargets targets, NetworkMaps network, Map<Double, Trial> tried) {
    return SolverSupport.matchNetworkValue(x -> {
      LocalSolve l = solveLocal(base, x, targets);
      SignAveragedMaps[] chains = SolverSupport.chainMaps(network, l.shaped());
      tried.put(x, new Trial(l, chains));
      return SolverSupport.networkJet(network, l.local(), chains)[0];
    }, zeta, xi, true, "the network C'(1) of '" + base.id() + "'");
  }

  /** xi: the per-layer C'(1) such that the network's maximal C'(1) is zeta. */
  public static double localSlopeTarget(NetworkMaps network, double zeta) {
    return Bisection.solveIncreasing(network::maxSlope, zeta, 1.1, 1.0, Double.POSITIVE_INFINITY,
        Bisection.DEFAULT_TOLERANCE, Bisection.DEFAULT_MAX_EVALUATIONS,
        "could not find a per-layer C'(1) giving the network C'(1) zeta = " + zeta
            + ": the maximal slope function may not be increasing; check the structure");
  }

  static ShapedActivation solveOne(
      Activation base, double xi, DksTargets targets, NetworkMaps network) {
    LocalSolve l = solveLocal(base, xi, targets);
    SignAveragedMaps[] chains = network.structure().isPresent() && network.hasChains()
        ? SolverSupport.chainMaps(network, l.shaped()) : null;
    return withNetwork(l, chains, network);
  }

  /**
   * The local part of one activation's solve at one per-layer C'(1): the parameters, the shaped
   * activation, its local values and the root search's outcome and warnings.
   */
  private record LocalSolve(Activation base, ShapingParams params, TransformedActivation shaped,
      KernelValues local, RootSearch.Outcome outcome, List<String> warnings) {}

  private static LocalSolve solveLocal(Activation base, double xi, DksTargets targets) {
    ActivationKind kind = ActivationKind.of(base);
    List<String> warnings = new ArrayList<>();
    String conditions = "Q'(1) = " + targets.localQSlope() + " and C'(1) = xi = " + xi;
    String failure = "no DKS parameters for '" + base.id() + "' meet " + conditions + " from any of "
        + StartPoints.TOTAL + " start points: this per-layer slope is out of the activation's reach;"
        + " use a deeper network or a smaller zeta (now " + targets.zeta()
        + "), or another activation";
    RootSearch.Outcome o;
    ShapingParams raw;
    switch (kind) {
      case RELU -> {
        double beta = xi < RELU_SHIFT_SWITCH ? 1.0 : -1.0;
        warnings.add("relu is only partially supported by DKS: the input shift is fixed to " + beta
            + " and the Q'(1) condition is dropped; prefer leaky_relu or a smooth activation");
        o = RootSearch.run(
            x -> new double[] {slopeAndQ(base, ShapingParams.of(x[0], beta, 0, 1))[1] - xi},
            List.of(Unknown.INPUT_SCALE), p -> false, "", failure);
        raw = ShapingParams.of(o.x()[0], beta, 0, 1);
      }
      case LEAKY_RELU -> {
        o = RootSearch.run(
            x -> residuals(base, leaky(x[0], x[1]), xi, targets.localQSlope()),
            List.of(Unknown.NEGATIVE_SLOPE, Unknown.INPUT_SHIFT), p -> false, "", failure);
        raw = leaky(o.x()[0], o.x()[1]);
      }
      default -> {
        o = RootSearch.run(
            x -> residuals(base, ShapingParams.of(x[0], x[1], 0, 1), xi, targets.localQSlope()),
            List.of(Unknown.INPUT_SCALE, Unknown.INPUT_SHIFT), p -> false, "", failure);
        double beta = o.x()[1];
        if (kind == ActivationKind.PERIODIC) {
          beta = ActivationKind.reduceShift(beta);
        }
        raw = ShapingParams.of(o.x()[0], beta, 0, 1);
      }
    }
    warnings.addAll(o.warnings());
    ShapingParams params = normalizeOutput(base, raw);
    TransformedActivation shaped = new TransformedActivation(base, params);
    return new LocalSolve(base, params, shaped, KernelValues.of(shaped), o, warnings);
  }

  /**
   * {@code l} with its network values: with {@code chains} (the chain maps of {@code l}'s shaped
   * activation, a structure with chains) the network jet and C(0) under them, else the Gaussian
   * ones.
   */
  private static ShapedActivation withNetwork(LocalSolve l, SignAveragedMaps[] chains,
      NetworkMaps network) {
    double[] jet;
    double c0;
    if (chains != null) {
      jet = SolverSupport.networkJet(network, l.local(), chains);
      c0 = SolverSupport.networkC0Linearized(network, l.local(), chains);
    } else {
      jet = SolverSupport.networkJet(network, l.local(), l.shaped());
      c0 = SolverSupport.networkC0Linearized(network, l.local(), l.shaped());
    }
    return new ShapedActivation(l.base(), l.params(), l.local(),
        new NetworkKernelValues(jet[0], jet[1], c0), l.outcome().startIndex(),
        l.outcome().evaluations(), List.copyOf(l.warnings()));
  }

  private static ShapingParams leaky(double slope, double beta) {
    return new ShapingParams(1.0, beta, 0.0, 1.0, OptionalDouble.of(slope));
  }

  /** DKS output parameters: delta = -E[phi(alpha z + beta)], gamma = 1 / sd. */
  static ShapingParams normalizeOutput(Activation base, ShapingParams raw) {
    GaussianMoments m = GaussianMoments.of(new TransformedActivation(base, raw));
    return raw.withOutputShift(-m.mean()).withOutputScale(1.0 / Math.sqrt(m.variance()));
  }

  /** {Q'(1), C'(1)} of the DKS-normalized activation with inner params p. */
  private static double[] slopeAndQ(Activation base, ShapingParams p) {
    GaussianMoments m = GaussianMoments.of(new TransformedActivation(base, p));
    double var = m.variance();
    return new double[] {m.centeredQSlopeMoment() / var, m.meanSquareDerivative() / var};
  }

  private static double[] residuals(Activation base, ShapingParams p, double xi, double qTarget) {
    double[] v = slopeAndQ(base, p);
    return new double[] {v[0] - qTarget, v[1] - xi};
  }
}
