package dev.dks.solver.solve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.solver.activation.Activations;
import dev.dks.solver.maps.LocalMaps;
import dev.dks.solver.network.Dag;
import dev.dks.solver.network.NetworkMaps;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * DKS on networks that multiply streams: k gated blocks in series, each {@code h = layer(x); g =
 * layer(layer(h)); x = h * g} (a gate of two layers computed from the features it multiplies).
 * A product's Q map is the product of its factors' ({@code q_z = Q_h(q) Q_g(q)}), so its Q'(1) is
 * the sum of theirs: at DKS's local Q'(1) = 1 a block doubles a q error and the network's Q'(1)
 * is 2^k (closed form), and with local Q'(1) rho it is {@code (rho (1 + rho^2))^k}. The solver
 * then takes the rho at which the largest network Q'(1) is zeta: the real root of {@code rho^3 +
 * rho = zeta^(1/k)} (Cardano's formula here). Checked independently by composing the shaped
 * activation's own Q map through the blocks and differentiating numerically at q = 1. Controls:
 * a chain without products keeps Q'(1) = 1; an activation that cannot reach the rho keeps 1 and
 * says so.
 */
class ProductQSlopeTest {
  private static Dag gatedBlocks(int k) {
    Dag.Builder b = Dag.builder();
    int x = b.input();
    for (int i = 0; i < k; i++) {
      int h = b.layer(x);
      int g = b.layer(b.layer(h));
      x = b.product(h, g);
    }
    b.affine(x);
    return b.build();
  }

  /** The real root of rho^3 + rho = a (Cardano; the cubic is increasing, one real root). */
  private static double cubicRoot(double a) {
    double d = Math.sqrt(a * a / 4 + 1.0 / 27);
    return Math.cbrt(a / 2 + d) + Math.cbrt(a / 2 - d);
  }

  /** The network's q at the last block for input q, composing the Q map of the blocks. */
  private static double networkQ(LocalMaps m, int k, double q) {
    for (int i = 0; i < k; i++) {
      double h = m.q(q);
      q = h * m.q(m.q(h));
    }
    return q;
  }

  @Test
  void qSlopeOfGatedBlocksIsTwoToTheGatesAndTheClosedFormAtRho() {
    for (int k = 1; k <= 6; k++) {
      NetworkMaps n = NetworkMaps.of(gatedBlocks(k));
      assertEquals(Math.pow(2, k), n.maxQSlope(1.0), 1e-12, "k = " + k);
      double rho = 0.8;
      assertEquals(Math.pow(rho * (1 + rho * rho), k), n.maxQSlope(rho), 1e-12, "k = " + k);
      // below the break-even the largest is the input's 1
      assertEquals(1.0, n.maxQSlope(0.5), 1e-12, "k = " + k);
    }
    // a chain without products: rho^L at most 1, whatever the depth
    Dag.Builder b = Dag.builder();
    int x = b.input();
    for (int i = 0; i < 20; i++) {
      x = b.layer(x);
    }
    NetworkMaps chain = NetworkMaps.of(b.build());
    assertEquals(1.0, chain.maxQSlope(1.0), 1e-12);
    assertEquals(1.0, chain.maxQSlope(0.9), 1e-12);
  }

  @Test
  void dksHoldsTheNetworkQSlopeOfGatedBlocksAtZeta() {
    int k = 4;
    double zeta = DksTargets.DEFAULT_ZETA;
    ShapingSolution s = DksSolver.solve(List.of(Activations.byName("tanh")),
        NetworkMaps.of(gatedBlocks(k)), DksTargets.defaults());
    ShapedActivation a = s.get("tanh");
    double rho = cubicRoot(Math.pow(zeta, 1.0 / k));
    assertEquals(0.7252, rho, 1e-4);
    assertEquals(rho, a.local().qSlope1(), 1e-5);
    assertEquals(1.0, a.local().q1(), 1e-9);
    // independently: the shaped activation's Q map composed through the blocks, differentiated
    LocalMaps m = LocalMaps.of(a.transformed());
    double hq = 1e-4;
    double slope = (networkQ(m, k, 1 + hq) - networkQ(m, k, 1 - hq)) / (2 * hq);
    assertEquals(zeta, slope, 1e-4);
    assertEquals(1.0, networkQ(m, k, 1.0), 1e-8);
    assertTrue(a.warnings().stream().anyMatch(w -> w.contains("adds its factors' Q'(1)")
        && w.contains("16.00-fold")), a.warnings().toString());
  }

  @Test
  void withoutProductsTheLocalQSlopeStaysOne() {
    Dag.Builder b = Dag.builder();
    int x = b.input();
    for (int i = 0; i < 12; i++) {
      x = b.layer(x);
    }
    ShapingSolution s = DksSolver.solve(List.of(Activations.byName("tanh")),
        NetworkMaps.of(b.build()), DksTargets.defaults());
    assertEquals(1.0, s.get("tanh").local().qSlope1(), 1e-6);
    // one gate: largest network Q'(1) 2 > zeta, so it changes; the root of rho^3 + rho = 1.5
    ShapingSolution one = DksSolver.solve(List.of(Activations.byName("tanh")),
        NetworkMaps.of(gatedBlocks(1)), DksTargets.defaults());
    assertEquals(cubicRoot(1.5), one.get("tanh").local().qSlope1(), 1e-5);
  }
}
