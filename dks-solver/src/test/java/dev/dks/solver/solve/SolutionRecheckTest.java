package dev.dks.solver.solve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.activation.ShapingParams;
import dev.dks.solver.network.NetworkMaps;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every DKS and TAT solve (all activations, four networks, default targets) either succeeds and
 * meets its conditions when re-checked with the independent quadrature of {@link Recheck}
 * (residuals below 1e-9), or fails in the way mathematics says it must:
 *
 * <ul>
 *   <li>square: phi(alpha z + beta) centred has Q'(1) = C'(1) = 2(1+r)/(1+2r), r = beta^2 /
 *       alpha^2, so the DKS conditions Q'(1) = 1 and C'(1) = xi &gt; 1 are incompatible; under
 *       TAT, Q'(1) = 1 forces (beta^2 + delta)^2 = 3 alpha^4 while C'(1) = 1 forces beta^2 +
 *       delta = -alpha^2: no root either (NoRootFoundException);
 *   <li>relu and selu under TAT: unsupported (their C''(1) is infinite);
 *   <li>leaky_relu under TAT on a 10-layer chain: the largest reachable C(0), at s = 0, is the
 *       arc-cosine map iterated 10 times from 0, below eta = 0.9 (UnreachableTargetException).
 * </ul>
 */
class SolutionRecheckTest {
  private static final double TOL = 1e-9;
  private static final double ZETA = DksTargets.DEFAULT_ZETA;
  private static final double TAU = TatTargets.DEFAULT_TAU;
  private static final double ETA = TatTargets.DEFAULT_ETA;

  static List<Recheck.Net> nets() {
    return List.of(Recheck.chain(10), Recheck.chain(50), Recheck.resnet(50, 0.0),
        Recheck.resnet(101, 0.6));
  }

  static Stream<Arguments> cases() {
    List<Arguments> out = new ArrayList<>();
    for (Method m : new Method[] {Method.DKS, Method.TAT}) {
      for (Recheck.Net n : nets()) {
        for (String a : Activations.names()) {
          out.add(Arguments.of(m, n, a));
        }
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} {1} {2}")
  @MethodSource("cases")
  void solveMeetsItsConditions(Method method, Recheck.Net net, String name) {
    Activation base = Activations.byName(name);
    NetworkMaps maps = NetworkMaps.of(net.structure());
    if (name.equals("square")) {
      assertThrows(NoRootFoundException.class, () -> solve(method, base, maps));
      return;
    }
    if (method == Method.TAT && (name.equals("relu") || name.equals("selu"))) {
      assertThrows(UnsupportedActivationException.class, () -> solve(method, base, maps));
      return;
    }
    if (method == Method.TAT && name.equals("leaky_relu") && net.name().equals("chain10")) {
      double reachable = net.maxC0().applyAsDouble(c -> Recheck.treluC(0.0, c));
      assertTrue(reachable < ETA, "independently unreachable: " + reachable);
      assertThrows(UnreachableTargetException.class, () -> solve(method, base, maps));
      return;
    }
    ShapingSolution sol = solve(method, base, maps);
    ShapedActivation sa = sol.get(name);
    ShapingParams p = sa.params();
    Recheck.Local loc = Recheck.local(base, p);
    String ctx = method + " " + net + " " + name + " " + p.asMap();
    assertEquals(1.0, loc.q1(), TOL, ctx + " Q(1)");
    if (name.equals("sin") || name.equals("cos")) {
      assertTrue(p.inputShift() >= 0 && p.inputShift() < 2 * Math.PI, ctx + " shift reduced");
    }
    if (method == Method.DKS) {
      double xi = sol.localTarget();
      assertEquals(ZETA, net.mu().applyAsDouble(xi), 1e-7, ctx + " mu(xi)");
      assertEquals(0.0, loc.mean(), TOL, ctx + " E[phi] (C(0) = 0)");
      assertEquals(0.0, loc.c0(), TOL * TOL, ctx + " C(0)");
      assertEquals(xi, loc.cSlope1(), TOL, ctx + " C'(1)");
      if (name.equals("relu")) {
        double expectedShift = xi < Math.PI / (Math.PI - 1) ? 1.0 : -1.0;
        assertEquals(expectedShift, p.inputShift(), 0.0, ctx + " relu shift rule");
        assertFalse(sa.warnings().isEmpty(), "relu is only partially supported");
      } else {
        assertEquals(DksTargets.DEFAULT_LOCAL_Q_SLOPE, loc.qSlope1(), TOL, ctx + " Q'(1)");
      }
      if (name.equals("leaky_relu")) {
        assertEquals(1.0, p.inputScale(), 0.0, ctx + " no input scale for leaky relu");
      }
      assertEquals(ZETA, sa.network().cSlope1(), 1e-7, ctx + " reported network C'(1)");
      assertEquals(0.0, sa.network().c0(), 1e-9, ctx + " reported network C(0)");
    } else if (name.equals("leaky_relu")) {
      double s = p.negativeSlope().orElseThrow();
      assertEquals(s, sol.localTarget(), 0.0);
      assertEquals(List.of("output_scale", "negative_slope"), List.copyOf(p.asMap().keySet()));
      assertEquals(Math.sqrt(2 / (1 + s * s)), p.outputScale(), 1e-15, ctx + " gamma");
      assertEquals(1.0, loc.qSlope1(), TOL, ctx + " Q'(1)");
      assertEquals(1.0, loc.cSlope1(), TOL, ctx + " C'(1)");
      double c0 = net.maxC0().applyAsDouble(c -> Recheck.treluC(s, c));
      assertEquals(ETA, c0, 1e-8, ctx + " network C(0)");
      assertEquals(ETA, sa.network().c0(), 1e-8, ctx + " reported network C(0)");
    } else {
      double tauLoc = sol.localTarget();
      assertEquals(TAU, net.kappa().applyAsDouble(tauLoc), 1e-7, ctx + " kappa(tau_loc)");
      assertEquals(1.0, loc.qSlope1(), TOL, ctx + " Q'(1)");
      assertEquals(1.0, loc.cSlope1(), TOL, ctx + " C'(1)");
      assertEquals(tauLoc, loc.cCurvature1(), TOL, ctx + " C''(1)");
      double product = p.inputScale() * p.outputScale();
      if (sa.warnings().isEmpty()) {
        assertTrue(product < TatSolver.MAX_SCALE_PRODUCT, ctx + " accepted alpha*gamma < 2");
      } else {
        assertEquals(StartPoints.TOTAL - 1, sa.startIndex(), ctx + " quirk: last start only");
      }
      assertEquals(TAU, sa.network().cCurvature1(), 1e-7, ctx + " reported network C''(1)");
      assertEquals(1.0, sa.network().cSlope1(), 1e-9, ctx + " reported network C'(1)");
    }
  }

  static ShapingSolution solve(Method m, Activation a, NetworkMaps maps) {
    return ShapingSolver.solve(m, List.of(a), maps, DksTargets.defaults(), TatTargets.defaults());
  }
}
