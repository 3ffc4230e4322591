package dev.dks.solver.solve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.maps.LeakyReluCMap;
import dev.dks.solver.maps.SignAveragedMaps;
import dev.dks.solver.network.Dag;
import dev.dks.solver.network.NetworkMaps;
import dev.dks.solver.network.ScalarSemantics;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The solve on a structure with depthwise chains ({@link Dag.Node#chain}) meets its target under
 * the chains' own maps, the ones the kernel check predicts with. The network is MobileNetV2's
 * block pattern: a layer (1x1 expand + activation), a depthwise conv, a layer (its activation),
 * a linear 1x1 projection; {@value #BLOCKS} blocks. The check propagates c block by block with
 * {@link SignAveragedMaps} (nested quadrature of the composed activations, a second method next
 * to the solver's closed forms); negative control: the slope solved with the same DAG unmarked
 * (every layer's input taken as Gaussian, what the rewrite did before) misses the target under
 * the chain maps by more than 0.01 (MobileNetV2: 0.877 for 0.9). DKS and TAT with softplus: the
 * network C'(1) (zeta) and C''(1) (tau), from finite differences of the pair's quadrature C map
 * at 1, meet their targets; the unmarked solve misses them.
 */
class DepthwiseChainSolveTest {
  private static final int BLOCKS = 17;

  /** {@code BLOCKS} blocks; marked: each block's second layer ends a chain with its first. */
  static Dag blocks(boolean marked) {
    Dag.Builder b = Dag.builder();
    int x = b.input();
    Map<Integer, int[]> chains = new HashMap<>();
    for (int i = 0; i < BLOCKS; i++) {
      int expand = b.layer(x);
      int dw = b.affine(expand);
      int act = b.layer(dw);
      chains.put(act, new int[] {expand, act});
      x = b.affine(act);
    }
    Dag d = b.build();
    return marked ? d.withChains(chains) : d;
  }

  /** c at the output for input c 0: block by block with the quadrature maps of the pair. */
  private static double outputC0(Activation shaped) {
    SignAveragedMaps pair = SignAveragedMaps.of(List.of(shaped, shaped));
    double c = 0;
    for (int i = 0; i < BLOCKS; i++) {
      c = pair.c(c);
    }
    return c;
  }

  private static ShapedActivation solveTat(Dag d, double eta) {
    return ShapingSolver.solve(Method.TAT, List.of(Activations.byName("leaky_relu")),
        NetworkMaps.of(d), DksTargets.defaults(), new TatTargets(eta, 0.3)).get("leaky_relu");
  }

  @Test
  void tatLeakyReluMeetsEtaUnderTheChainMaps() {
    ShapedActivation chained = solveTat(blocks(true), 0.9);
    assertEquals(0.9, outputC0(chained.transformed()), 1e-6);
    assertEquals(0.9, chained.network().c0(), 1e-7);
    ShapedActivation unmarked = solveTat(blocks(false), 0.9);
    double missed = outputC0(unmarked.transformed());
    assertTrue(0.9 - missed > 0.01, "unmarked solve gives " + missed);
  }

  @Test
  void theLargestEtaIsReluUnderTheChainMaps() {
    // slope 0: each pair's map is c + (sqrt(1 - c^2) - c arccos c) / pi, the ReLU's arc-cosine
    // C map, so the chained network's largest C(0) is that of BLOCKS plain ReLU layers
    double c = 0;
    for (int i = 0; i < BLOCKS; i++) {
      c = c + (Math.sqrt(1 - c * c) - c * Math.acos(c)) / Math.PI;
    }
    assertEquals(c, TatSolver.maxEta(NetworkMaps.of(blocks(true))), 1e-12);
    assertTrue(TatSolver.maxEta(NetworkMaps.of(blocks(false))) - c > 0.01);
  }

  @Test
  void semanticsWithoutChainMapsComposeTheLayers() {
    LeakyReluCMap m = new LeakyReluCMap(0.3);
    double marked = blocks(true).propagate(0.0, new ScalarSemantics(m::apply));
    double unmarked = blocks(false).propagate(0.0, new ScalarSemantics(m::apply));
    assertEquals(unmarked, marked, 1e-15);
  }

  /** The pair's C'(1) and C''(1) by one-sided finite differences of its quadrature C map. */
  private static double[] pairJet(Activation shaped) {
    SignAveragedMaps pair = SignAveragedMaps.of(List.of(shaped, shaped));
    double h = 1e-3;
    double c1 = pair.c(1 - h);
    double c2 = pair.c(1 - 2 * h);
    double c3 = pair.c(1 - 3 * h);
    double slope = (3 - 4 * c1 + c2) / (2 * h);
    double curvature = (2 - 5 * c1 + 4 * c2 - c3) / (h * h);
    return new double[] {slope, curvature};
  }

  private static Activation solved(Method m, Dag d) {
    return ShapingSolver.solve(m, List.of(Activations.byName("softplus")), NetworkMaps.of(d),
        DksTargets.defaults(), TatTargets.defaults()).get("softplus").transformed();
  }

  @Test
  void dksMeetsZetaUnderTheChainMaps() {
    double zeta = DksTargets.defaults().zeta();
    double net = Math.pow(pairJet(solved(Method.DKS, blocks(true)))[0], BLOCKS);
    assertEquals(zeta, net, 1e-4 * zeta);
    double unmarked = Math.pow(pairJet(solved(Method.DKS, blocks(false)))[0], BLOCKS);
    // the chains change a softplus pair's C'(1) little: 1.5167 for 1.5 (the tolerance is 1.5e-4)
    assertTrue(Math.abs(unmarked - zeta) > 0.01, "unmarked solve gives " + unmarked);
  }

  @Test
  void tatSmoothMeetsTauUnderTheChainMaps() {
    double tau = TatTargets.defaults().tau();
    // blocks in series: (slope s, curvature k) -> (P s, K s^2 + P k) per pair
    double[] chained = pairJet(solved(Method.TAT, blocks(true)));
    double s = 1;
    double k = 0;
    for (int i = 0; i < BLOCKS; i++) {
      k = chained[1] * s * s + chained[0] * k;
      s = chained[0] * s;
    }
    assertEquals(tau, k, 1e-3, "chained solve gives " + k);
    double[] plain = pairJet(solved(Method.TAT, blocks(false)));
    double s2 = 1;
    double k2 = 0;
    for (int i = 0; i < BLOCKS; i++) {
      k2 = plain[1] * s2 * s2 + plain[0] * k2;
      s2 = plain[0] * s2;
    }
    // 0.3069 for 0.3
    assertTrue(Math.abs(k2 - tau) > 0.005, "unmarked solve gives " + k2);
  }

  @Test
  void aChainMustEndAtItsNodeAndListLayers() {
    Dag.Builder b = Dag.builder();
    int l1 = b.layer(b.input());
    int a = b.affine(l1);
    int l2 = b.layer(a);
    Dag d = b.build();
    assertThrows(IllegalArgumentException.class,
        () -> d.withChains(Map.of(l2, new int[] {a, l2})));
    assertThrows(IllegalArgumentException.class,
        () -> d.withChains(Map.of(l2, new int[] {l1})));
    assertThrows(IllegalArgumentException.class,
        () -> d.withChains(Map.of(l1, new int[] {l1, l2})));
    assertEquals(l1, d.withChains(Map.of(l2, new int[] {l1, l2})).chainStart(l2) + 1);
  }
}
