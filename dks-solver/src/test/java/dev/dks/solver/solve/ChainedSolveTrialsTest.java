package dev.dks.solver.solve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.network.Dag;
import dev.dks.solver.network.NetworkMaps;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The solve on a structure with depthwise chains keeps what its secant match computed (the
 * local solve and chain maps of every point tried) and computes the network C(0), the chain maps'
 * nested quadratures, only at the point it returns. It must give what the straightforward
 * procedure gives: every point of the match solved in full ({@link DksSolver#solveOne}, {@link
 * TatSolver#solveSmooth}, network values included) and the point returned solved once more.
 * Parameters and network values agree within 1e-9 relative; negative control: the solve with the
 * Gaussian per-layer target (what the match starts from) differs from that reference by more
 * than 1e-6, so the comparison sees a wrong target. The solution's {@code localTarget} is the
 * Gaussian one (xi, tau_loc by bisection) and each activation's {@code chainMatchedTarget} the
 * matched one, whatever the activations' order.
 */
class ChainedSolveTrialsTest {
  private static final double REL = 1e-9;

  /**
   * Blocks of MobileNetV2's pattern (a layer, a depthwise conv, a layer: a chain of two) and one
   * block of three layers joined by two depthwise convs (a chain of three).
   */
  static Dag network() {
    Dag.Builder b = Dag.builder();
    int x = b.input();
    Map<Integer, int[]> chains = new HashMap<>();
    for (int i = 0; i < 4; i++) {
      int first = b.layer(x);
      int second = b.layer(b.affine(first));
      chains.put(second, new int[] {first, second});
      x = b.affine(second);
    }
    int a = b.layer(x);
    int c = b.layer(b.affine(a));
    int d = b.layer(b.affine(c));
    chains.put(c, new int[] {a, c});
    chains.put(d, new int[] {a, c, d});
    b.affine(d);
    return b.build().withChains(chains);
  }

  private static void assertClose(double expected, double actual, String what) {
    assertEquals(expected, actual, REL * Math.max(1.0, Math.abs(expected)), what);
  }

  private static void assertSame(ShapedActivation ref, ShapedActivation got) {
    Map<String, Double> p = ref.params().asMap();
    assertEquals(p.keySet(), got.params().asMap().keySet());
    p.forEach((k, v) -> assertClose(v, got.params().asMap().get(k), k));
    assertClose(ref.network().cSlope1(), got.network().cSlope1(), "network C'(1)");
    assertClose(ref.network().cCurvature1(), got.network().cCurvature1(), "network C''(1)");
    if (Double.isNaN(ref.network().c0())) {
      assertTrue(Double.isNaN(got.network().c0()), "network C(0)");
    } else {
      assertClose(ref.network().c0(), got.network().c0(), "network C(0)");
    }
    assertEquals(ref.startIndex(), got.startIndex());
    assertEquals(ref.warnings(), got.warnings());
  }

  private static double maxRelativeParamDifference(ShapedActivation a, ShapedActivation b) {
    double m = 0;
    for (Map.Entry<String, Double> e : a.params().asMap().entrySet()) {
      double v = b.params().asMap().get(e.getKey());
      m = Math.max(m, Math.abs(v - e.getValue()) / Math.max(1.0, Math.abs(e.getValue())));
    }
    return m;
  }

  @Test
  void dksGivesTheStraightforwardSolve() {
    NetworkMaps net = NetworkMaps.of(network());
    DksTargets t = DksTargets.defaults();
    double xi = DksSolver.localSlopeTarget(net, t.zeta());
    List<Activation> acts = List.of(Activations.byName("softplus"), Activations.byName("tanh"));
    ShapingSolution sol = ShapingSolver.solve(Method.DKS, acts, net, t, TatTargets.defaults());
    assertEquals(xi, sol.localTarget(), 0.0);
    for (Activation a : acts.subList(0, 1)) { // the reference solves every point in full
      double x = SolverSupport.matchNetworkValue(
          v -> DksSolver.solveOne(a, v, t, net).network().cSlope1(), t.zeta(), xi, true, a.id());
      ShapedActivation ref = DksSolver.solveOne(a, x, t, net);
      ShapedActivation got = sol.get(a.id());
      assertSame(ref, got);
      assertClose(x, got.chainMatchedTarget(), "chain-matched xi");
      assertClose(t.zeta(), got.network().cSlope1(), "zeta");
      double off = maxRelativeParamDifference(ref, DksSolver.solveOne(a, xi, t, net));
      assertTrue(off > 1e-6, a.id() + ": the Gaussian xi's parameters differ by only " + off);
    }
    ShapingSolution reversed = ShapingSolver.solve(Method.DKS, List.of(acts.get(1), acts.get(0)),
        net, t, TatTargets.defaults());
    assertEquals(sol.localTarget(), reversed.localTarget(), 0.0);
    for (Activation a : acts) {
      assertSame(sol.get(a.id()), reversed.get(a.id()));
      assertClose(t.zeta(), sol.get(a.id()).network().cSlope1(), a.id() + " zeta");
    }
    assertTrue(Math.abs(sol.get("tanh").chainMatchedTarget()
        - sol.get("softplus").chainMatchedTarget()) > 1e-6, "each activation matches its own xi");
  }

  @Test
  void tatSmoothGivesTheStraightforwardSolve() {
    NetworkMaps net = NetworkMaps.of(network());
    TatTargets t = TatTargets.defaults();
    double tauLoc = TatSolver.localCurvatureTarget(net, t.tau());
    Activation a = Activations.byName("softplus");
    ShapingSolution sol = ShapingSolver.solve(Method.TAT, List.of(a), net,
        DksTargets.defaults(), t);
    assertEquals(tauLoc, sol.localTarget(), 0.0);
    double x = SolverSupport.matchNetworkValue(
        v -> TatSolver.solveSmooth(a, v, t, net).network().cCurvature1(), t.tau(), tauLoc, false,
        a.id());
    ShapedActivation ref = TatSolver.solveSmooth(a, x, t, net);
    ShapedActivation got = sol.get(a.id());
    assertSame(ref, got);
    assertClose(x, got.chainMatchedTarget(), "chain-matched tau_loc");
    assertClose(t.tau(), got.network().cCurvature1(), "tau");
    double off = maxRelativeParamDifference(ref, TatSolver.solveSmooth(a, tauLoc, t, net));
    assertTrue(off > 1e-6, "the Gaussian tau_loc's parameters differ by only " + off);
  }

  @Test
  void withoutChainsNothingIsMatched() {
    Dag.Builder b = Dag.builder();
    int x = b.input();
    for (int i = 0; i < 8; i++) {
      x = b.layer(x);
    }
    b.affine(x);
    NetworkMaps net = NetworkMaps.of(b.build());
    ShapingSolution sol = ShapingSolver.solve(Method.DKS, List.of(Activations.byName("softplus")),
        net, DksTargets.defaults(), TatTargets.defaults());
    assertTrue(Double.isNaN(sol.get("softplus").chainMatchedTarget()));
    assertEquals(Math.pow(DksTargets.DEFAULT_ZETA, 1.0 / 8), sol.localTarget(), 1e-9);
  }
}
