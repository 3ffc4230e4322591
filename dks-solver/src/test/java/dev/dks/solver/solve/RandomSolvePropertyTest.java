package dev.dks.solver.solve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.network.Architectures;
import dev.dks.solver.network.NetworkMaps;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Random seeded (activation, depth in [3, 60], target) triples: a solve either fails with
 * NoRootFoundException (never another exception) or its conditions hold under the independent
 * quadrature.
 */
class RandomSolvePropertyTest {
  private static final int CASES = 20;
  private static final List<String> TAT_SMOOTH = Activations.names().stream()
      .filter(n -> !List.of("relu", "selu", "leaky_relu").contains(n)).toList();

  static Stream<Arguments> dksCases() {
    SplittableRandom rng = new SplittableRandom(20240607L);
    List<String> names = Activations.names();
    List<Arguments> out = new ArrayList<>();
    for (int i = 0; i < CASES; i++) {
      out.add(Arguments.of(names.get(rng.nextInt(names.size())), rng.nextInt(3, 61),
          1.05 + 1.95 * rng.nextDouble()));
    }
    return out.stream();
  }

  static Stream<Arguments> tatCases() {
    SplittableRandom rng = new SplittableRandom(777L);
    List<Arguments> out = new ArrayList<>();
    for (int i = 0; i < CASES; i++) {
      out.add(Arguments.of(TAT_SMOOTH.get(rng.nextInt(TAT_SMOOTH.size())), rng.nextInt(3, 61),
          0.05 + 1.45 * rng.nextDouble()));
    }
    return out.stream();
  }

  @ParameterizedTest(name = "DKS {0} depth {1} zeta {2}")
  @MethodSource("dksCases")
  void dks(String name, int depth, double zeta) {
    Activation a = Activations.byName(name);
    ShapingSolution sol;
    try {
      sol = ShapingSolver.solve(Method.DKS, List.of(a),
          NetworkMaps.of(Architectures.plainChain(depth)), DksTargets.ofZeta(zeta),
          TatTargets.defaults());
    } catch (RuntimeException e) {
      assertInstanceOf(NoRootFoundException.class, e, "only NoRootFoundException may escape");
      assertTrue(e.getMessage().contains("use"), e.getMessage());
      return;
    }
    double xi = sol.localTarget();
    assertEquals(zeta, Math.pow(xi, depth), 1e-7, "mu(xi) = zeta");
    Recheck.Local loc = Recheck.local(a, sol.get(name).params());
    assertEquals(1.0, loc.q1(), 1e-9, "Q(1)");
    assertEquals(0.0, loc.mean(), 1e-9, "E[phi]");
    assertEquals(xi, loc.cSlope1(), 1e-9, "C'(1)");
    if (!name.equals("relu")) {
      assertEquals(1.0, loc.qSlope1(), 1e-9, "Q'(1)");
    }
  }

  @ParameterizedTest(name = "TAT {0} depth {1} tau {2}")
  @MethodSource("tatCases")
  void tat(String name, int depth, double tau) {
    Activation a = Activations.byName(name);
    ShapingSolution sol;
    try {
      sol = ShapingSolver.solve(Method.TAT, List.of(a),
          NetworkMaps.of(Architectures.plainChain(depth)), DksTargets.defaults(),
          new TatTargets(0.9, tau));
    } catch (RuntimeException e) {
      assertInstanceOf(NoRootFoundException.class, e, "only NoRootFoundException may escape");
      return;
    }
    double tauLoc = sol.localTarget();
    assertEquals(tau, depth * tauLoc, 1e-7, "kappa(tau_loc) = tau");
    Recheck.Local loc = Recheck.local(a, sol.get(name).params());
    assertEquals(1.0, loc.q1(), 1e-9, "Q(1)");
    assertEquals(1.0, loc.qSlope1(), 1e-9, "Q'(1)");
    assertEquals(1.0, loc.cSlope1(), 1e-9, "C'(1)");
    assertEquals(tauLoc, loc.cCurvature1(), 1e-9, "C''(1)");
  }

  @Test
  void mostRandomCasesSucceed() {
    // guards against a property test that passes vacuously because everything throws
    int ok = 0;
    for (Arguments args : dksCases().toList()) {
      Object[] v = args.get();
      try {
        ShapingSolver.solve(Method.DKS, List.of(Activations.byName((String) v[0])),
            NetworkMaps.of(Architectures.plainChain((Integer) v[1])),
            DksTargets.ofZeta((Double) v[2]), TatTargets.defaults());
        ok++;
      } catch (NoRootFoundException e) {
        // counted as a failure
      }
    }
    assertTrue(ok >= CASES / 2, ok + " of " + CASES + " random DKS solves succeeded");
  }
}
