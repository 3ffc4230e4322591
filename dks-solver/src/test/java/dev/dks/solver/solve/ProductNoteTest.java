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
 * g}), read by the solvers as the geometric mean of the factors: mu(x) = (x + x^3) / 2, so xi is
 * the real root of {@code x^3 + x = 2 zeta} (Cardano's formula), and kappa(t) = 2 t, so tau_loc =
 * tau / 2; every activation carries the note on products. Control: a plain chain has no note.
 */
class ProductNoteTest {
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
  void dksSolvesTheGeometricMeanPartAndSaysSo() {
    ShapingSolution s = DksSolver.solve(List.of(Activations.byName("softplus")), gate(),
        DksTargets.defaults());
    double xi = cubicRoot(2 * 1.5);
    assertEquals(xi, s.localTarget(), 1e-7);
    ShapedActivation a = s.get("softplus");
    assertEquals(xi, a.local().cSlope1(), 1e-6);
    assertEquals(1.5, a.network().cSlope1(), 1e-5);
    assertTrue(a.warnings().stream().anyMatch(w -> w.contains("multiplies streams")),
        a.warnings().toString());

    ShapingSolution plain = DksSolver.solve(List.of(Activations.byName("softplus")),
        NetworkMaps.of(Architectures.plainChain(3)), DksTargets.defaults());
    assertEquals(Math.cbrt(1.5), plain.localTarget(), 1e-7);
    assertTrue(plain.get("softplus").warnings().stream()
        .noneMatch(w -> w.contains("multiplies streams")));
  }

  @Test
  void tatSolvesTheGeometricMeanPartAndSaysSo() {
    ShapingSolution s = TatSolver.solve(List.of(Activations.byName("softplus")), gate(),
        TatTargets.defaults());
    assertEquals(0.3 / 2, s.localTarget(), 1e-7);
    ShapedActivation a = s.get("softplus");
    assertEquals(0.3, a.network().cCurvature1(), 1e-5);
    assertEquals(1.0, a.network().cSlope1(), 1e-6);
    assertTrue(a.warnings().stream().anyMatch(w -> w.contains("multiplies streams")),
        a.warnings().toString());
  }
}
