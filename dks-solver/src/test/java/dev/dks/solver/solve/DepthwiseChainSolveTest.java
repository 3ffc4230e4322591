package dev.dks.solver.solve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.maps.LocalMaps;
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
 * the chain maps by more than 0.01 (MobileNetV2: 0.877 for 0.9).
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
    LocalMaps m = LocalMaps.of(solveTat(blocks(false), 0.9).transformed());
    double marked = blocks(true).propagate(0.0, new ScalarSemantics(m::c));
    double unmarked = blocks(false).propagate(0.0, new ScalarSemantics(m::c));
    assertEquals(unmarked, marked, 1e-15);
  }

  @Test
  void aChainMustEndAtItsNodeAndListLayers() {
    Dag.Builder b = Dag.builder();
    int l1 = b.layer(b.input());
    int a = b.affine(l1);
    int l2 = b.layer(a);
    Dag d = b.build();
    assertThrows(IllegalArgumentException.class, () -> d.withChains(Map.of(l2, new int[] {a, l2})));
    assertThrows(IllegalArgumentException.class, () -> d.withChains(Map.of(l2, new int[] {l1})));
    assertThrows(IllegalArgumentException.class, () -> d.withChains(Map.of(l1, new int[] {l1, l2})));
    assertEquals(l1, d.withChains(Map.of(l2, new int[] {l1, l2})).chainStart(l2) + 1);
  }
}
