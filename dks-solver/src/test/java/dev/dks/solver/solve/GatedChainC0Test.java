package dev.dks.solver.solve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.activation.ComposedActivation;
import dev.dks.solver.maps.LocalMaps;
import dev.dks.solver.network.Dag;
import dev.dks.solver.network.NetworkMaps;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The DKS solve of a gated network with depthwise chains (meet's pattern: a product of a chain
 * of two layers and a plain layer): its network C(0), which maps c through the chain's
 * sign-averaged C map (now by LocalMaps' Hermite series near 0), equals the same propagation
 * done by hand with the nested quadrature (LocalMaps.cNested, the computation before the series)
 * and the sign patterns' Q(1) weights. tanh: it reaches the lowered local Q'(1) on this small net
 * (softplus falls back to 1 here).
 */
class GatedChainC0Test {
  private static final int BLOCKS = 4;

  private static Dag gatedChains() {
    Dag.Builder b = Dag.builder();
    int x = b.input();
    Map<Integer, int[]> chains = new HashMap<>();
    for (int i = 0; i < BLOCKS; i++) {
      int expand = b.layer(x);
      int act = b.layer(b.affine(expand));
      chains.put(act, new int[] {expand, act});
      int gate = b.layer(x);
      x = b.product(act, gate);
    }
    b.affine(x);
    return b.build().withChains(chains);
  }

  /** The pair's C map by the nested rule, sign patterns weighted by their Q(1). */
  private static double pairNested(Activation shaped, double c) {
    double num = 0;
    double den = 0;
    for (double sign : new double[] {1, -1}) {
      LocalMaps m = LocalMaps.of(new ComposedActivation(shaped, sign, shaped));
      num += m.q1() * m.cNested(c);
      den += m.q1();
    }
    return num / den;
  }

  @Test
  void networkC0MatchesTheNestedRuleByHand() {
    NetworkMaps n = NetworkMaps.of(gatedChains());
    ShapedActivation a = DksSolver.solve(List.of(Activations.byName("tanh")), n,
        DksTargets.defaults()).get("tanh");
    // the gates lowered the local Q'(1) (the path whose C(0) propagation was slow)
    assertNotEquals(1.0, a.local().qSlope1(), 1e-3);
    KernelValues local = a.local();
    double c = 0;
    for (int i = 0; i < BLOCKS; i++) {
      double chain = pairNested(a.transformed(), c);
      double gate = local.c0() + local.cSlope0() * c;
      c = chain * gate;
    }
    assertEquals(c, a.network().c0(), 1e-12 * Math.abs(c));
    // control: the chain's map is not the composition of the linearized local maps
    double composed = 0;
    for (int i = 0; i < BLOCKS; i++) {
      double lin = local.c0() + local.cSlope0() * composed;
      composed = (local.c0() + local.cSlope0() * lin) * (local.c0() + local.cSlope0() * composed);
    }
    assertNotEquals(composed, a.network().c0(), 1e-3 * Math.abs(c));
  }
}
