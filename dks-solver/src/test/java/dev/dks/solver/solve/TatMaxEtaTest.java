package dev.dks.solver.solve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.solver.activation.Activations;
import dev.dks.solver.network.Architectures;
import dev.dks.solver.network.NetworkMaps;
import dev.dks.solver.network.Structure;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The largest eta (network C(0)) TAT's leaky ReLU reaches on a shallow network, which the refusal
 * names and {@code --eta auto} uses: checked against the arc-cosine closed form of ReLU's C map
 * composed by hand, and by solving at it (succeeds, slope 0) and just above it (refused).
 */
class TatMaxEtaTest {
  /** The normalized ReLU C map (arc-cosine kernel of degree 1), written out independently. */
  private static double reluC(double c) {
    return (Math.sqrt(1 - c * c) + (Math.PI - Math.acos(c)) * c) / Math.PI;
  }

  private static NetworkMaps chain(int depth) {
    return NetworkMaps.of(Architectures.plainChain(depth));
  }

  private static ShapedActivation solve(Structure s, TatTargets t) {
    return ShapingSolver.solve(Method.TAT, List.of(Activations.byName("leaky_relu")),
        NetworkMaps.of(s), DksTargets.defaults(), t).get("leaky_relu");
  }

  @Test
  void oneLayerReachesOneOverPi() {
    assertEquals(1 / Math.PI, TatSolver.maxEta(chain(1)), 1e-15);
  }

  @Test
  void deeperChainsComposeTheReluCMap() {
    double c = 0;
    for (int depth = 1; depth <= 8; depth++) {
      c = reluC(c);
      assertEquals(c, TatSolver.maxEta(chain(depth)), 1e-13, "depth " + depth);
    }
    // the default 0.9 needs about 25 plain ReLU layers (C(0) -> 1 like 1 - 9 pi^2 / (2 L^2))
    assertTrue(TatSolver.maxEta(chain(4)) < 0.9);
  }

  @ParameterizedTest(name = "depth {0}")
  @ValueSource(ints = {1, 2, 3, 5, 10})
  void theSolverMeetsTheNamedMaximumAndRefusesJustAboveIt(int depth) {
    Structure s = Architectures.plainChain(depth);
    double max = TatSolver.maxEta(NetworkMaps.of(s));
    ShapedActivation at = solve(s, new TatTargets(max, 0.3));
    assertEquals(0.0, at.params().negativeSlope().orElseThrow(), 1e-6);
    assertEquals(max, at.network().c0(), 1e-8);
    double below = max - 0.05;
    ShapedActivation under = solve(s, new TatTargets(below, 0.3));
    double slope = under.params().negativeSlope().orElseThrow();
    assertTrue(slope > 0.01, "slope " + slope);
    double c = 0;
    for (int i = 0; i < depth; i++) {
      c = Recheck.treluC(slope, c);
    }
    assertEquals(below, c, 1e-7, "network C(0) by the closed form at the solved slope");
    UnreachableTargetException e = assertThrows(UnreachableTargetException.class,
        () -> solve(s, new TatTargets(max + 1e-6, 0.3)));
    assertTrue(e.getMessage().contains(String.format(Locale.ROOT, "%.6f", max)), e.getMessage());
  }

  @Test
  void autoSolvesAShallowNetworkAtItsMaximumAndSaysSo() {
    Structure s = Architectures.plainChain(3);
    double max = reluC(reluC(reluC(0)));
    ShapedActivation a = solve(s, TatTargets.autoEta(0.3));
    assertEquals(max, a.network().c0(), 1e-8);
    assertEquals(0.0, a.params().negativeSlope().orElseThrow(), 1e-6);
    assertTrue(a.warnings().stream().anyMatch(w -> w.contains("out of reach")
        && w.contains(String.format(Locale.ROOT, "%.6f", max))), a.warnings().toString());
    // control: the same request without the rule is refused
    assertThrows(UnreachableTargetException.class, () -> solve(s, new TatTargets(0.9, 0.3)));
  }

  @Test
  void autoOnANetworkThatReaches09IsExactly09() {
    Structure s = Architectures.resnet(50, 0.0, true);
    ShapedActivation auto = solve(s, TatTargets.autoEta(0.3));
    ShapedActivation exact = solve(s, TatTargets.defaults());
    assertEquals(exact.params(), auto.params());
    assertTrue(auto.warnings().isEmpty(), auto.warnings().toString());
    assertEquals(0.9, auto.network().c0(), 1e-8);
  }
}
