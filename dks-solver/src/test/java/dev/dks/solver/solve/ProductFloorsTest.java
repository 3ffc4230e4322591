package dev.dks.solver.solve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.solver.activation.Activations;
import dev.dks.solver.network.Architectures;
import dev.dks.solver.network.Dag;
import dev.dks.solver.network.NetworkMaps;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * DKS and TAT on a network with a product node ({@code h = layer(x); g = layer(layer(h)); z = h
 * g}): mu(x) = x + x^3 and kappa(t) = 4 t + 2 (ProductNodeTest), so the floors are mu(1) = 2 and
 * kappa(0) = 2 and the solves aim at zeta mu(1) and tau + kappa(0): xi is the real root of {@code
 * x^3 + x = 2 zeta} by Cardano's formula, tau_loc = tau / 4; each activation carries
 * the warning. Control: a plain chain keeps the reference's targets and no warning.
 */
class ProductFloorsTest {
  private static NetworkMaps gate() {
    Dag.Builder b = Dag.builder();
    int h = b.layer(b.input());
    int g = b.layer(b.layer(h));
    b.affine(b.product(h, g));
    return NetworkMaps.of(b.build());
  }

  /** The real root of x^3 + x = r (Cardano; one real root as the discriminant is positive). */
  private static double cubicRoot(double r) {
    double d = Math.sqrt(r * r / 4 + 1.0 / 27);
    return Math.cbrt(r / 2 + d) + Math.cbrt(r / 2 - d);
  }

  @Test
  void dksAimsTheActivationsAtZetaTimesTheProductFloor() {
    ShapingSolution s = DksSolver.solve(List.of(Activations.byName("softplus")), gate(),
        DksTargets.defaults());
    double xi = cubicRoot(1.5 * 2);
    assertEquals(xi, s.localTarget(), 1e-7);
    ShapedActivation a = s.get("softplus");
    assertEquals(xi, a.local().cSlope1(), 1e-6);
    assertEquals(3.0, a.network().cSlope1(), 1e-5);
    assertTrue(a.warnings().stream().anyMatch(w -> w.contains("multiplies streams")),
        a.warnings().toString());

    ShapingSolution plain = DksSolver.solve(List.of(Activations.byName("softplus")),
        NetworkMaps.of(Architectures.plainChain(3)), DksTargets.defaults());
    assertEquals(Math.cbrt(1.5), plain.localTarget(), 1e-7);
    assertTrue(plain.get("softplus").warnings().stream()
        .noneMatch(w -> w.contains("multiplies streams")));
  }

  @Test
  void tatAimsTheActivationsAtTauPlusTheProductFloor() {
    ShapingSolution s = TatSolver.solve(List.of(Activations.byName("softplus")), gate(),
        TatTargets.defaults());
    assertEquals(0.3 / 4, s.localTarget(), 1e-7);
    ShapedActivation a = s.get("softplus");
    assertEquals(0.3 + 2, a.network().cCurvature1(), 1e-5);
    assertEquals(2.0, a.network().cSlope1(), 1e-6);
    assertTrue(a.warnings().stream().anyMatch(w -> w.contains("multiplies streams")),
        a.warnings().toString());
  }
}
