package dev.dks.solver.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.solver.activation.Activations;
import dev.dks.solver.solve.DksTargets;
import dev.dks.solver.solve.Method;
import dev.dks.solver.solve.ShapedActivation;
import dev.dks.solver.solve.ShapingSolver;
import dev.dks.solver.solve.TatTargets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * TAT leaky ReLU (eta 0.9) on ResNet-34 v1 with shortcut weight 0.5: the one place where our
 * ResNet v1 map and the reference example's {@code subnet_max_func} part (issue 14).
 *
 * <p>Published by the reference (its example's network map, run through its TAT solve):
 * negative_slope 0.2913873791694641, output_scale 1.357746904325517. The example's v1 network
 * applies the stem activation right after the stem conv, but its M applies that activation once
 * after the last block (the line it shares with v2, whose final activation does sit there). Slopes
 * and curvatures commute, C maps do not: M(0, C_s) composes C_s(blocks(0)) where the network
 * computes blocks(C_s(0)). Ours keeps the network's order, so its slope differs by 1.1e-4.
 */
class ResNetV1StemOrderTest {
  private static final double W = 0.5;
  private static final double PUBLISHED_SLOPE = 0.2913873791694641;
  private static final double PUBLISHED_SCALE = 1.357746904325517;

  private static ShapedActivation solve(Structure s) {
    return ShapingSolver.solve(Method.TAT, List.of(Activations.byName("leaky_relu")),
        NetworkMaps.of(s), DksTargets.defaults(), TatTargets.defaults()).get("leaky_relu");
  }

  /** The example's M as a structure: stem activation moved after the last block. */
  private static Structure stemActivationLast() {
    double[] weights = {W, Math.sqrt(1 - W * W)};
    List<Structure> body = new ArrayList<>();
    body.add(Structure.affine());
    for (int blocks : new int[] {3, 4, 6, 3}) {
      for (int j = 0; j < blocks; j++) {
        body.add(Structure.normalizedSum(weights, Structure.affine(), Structure.layer()));
        body.add(Structure.layer());
      }
    }
    body.add(Structure.layer());
    return Structure.max(Structure.series(body), Structure.layer());
  }

  /** The closed-form TReLU C map (arc-cosine kernel), written out here. */
  private static double trelu(double s, double c) {
    double k = (1 - s) * (1 - s) / (Math.PI * (1 + s * s));
    return c + k * (Math.sqrt(1 - c * c) - c * Math.acos(c));
  }

  /** Network C(0) of ResNet-34 v1 by hand, in the network's order: stem, then 16 blocks. */
  private static double networkOrderC0(double s) {
    double c = trelu(s, 0);
    for (int b = 0; b < 16; b++) {
      c = trelu(s, W * W * c + (1 - W * W) * trelu(s, c));
    }
    return Math.max(c, trelu(s, 0));
  }

  /** Same blocks, stem activation last (the example's M). */
  private static double exampleOrderC0(double s) {
    double c = 0;
    for (int b = 0; b < 16; b++) {
      c = trelu(s, W * W * c + (1 - W * W) * trelu(s, c));
    }
    return Math.max(trelu(s, c), trelu(s, 0));
  }

  @Test
  void exampleOrderReproducesThePublishedNumbers() {
    ShapedActivation a = solve(stemActivationLast());
    assertEquals(PUBLISHED_SLOPE, a.params().negativeSlope().orElseThrow(), 1e-15);
    assertEquals(PUBLISHED_SCALE, a.params().outputScale(), 1e-15);
    // the transcription of the example's M agrees with the structure
    assertEquals(exampleOrderC0(0.3), ReferenceM.resnet(0.0, c -> trelu(0.3, c), 34, W, false),
        1e-15);
  }

  @Test
  void oursMeetsEtaInTheNetworksOrder() {
    ShapedActivation a = solve(Architectures.resnet(34, W, false));
    double s = a.params().negativeSlope().orElseThrow();
    assertEquals(0.9, networkOrderC0(s), 1e-8);
    assertEquals(Math.sqrt(2 / (1 + s * s)), a.params().outputScale(), 1e-15);
    // side by side (issue 14): ours 0.2914997935295105 / 1.357705904397794
    assertEquals(1.124e-4, s - PUBLISHED_SLOPE, 1e-6);
  }

  /** Negative control: each slope misses eta by far more than the tolerance in the other order. */
  @Test
  void theTwoOrdersAreDistinguishable() {
    assertEquals(0.9, exampleOrderC0(PUBLISHED_SLOPE), 1e-8);
    assertTrue(Math.abs(networkOrderC0(PUBLISHED_SLOPE) - 0.9) > 1e-6);
    double ours = solve(Architectures.resnet(34, W, false)).params().negativeSlope().orElseThrow();
    assertTrue(Math.abs(exampleOrderC0(ours) - 0.9) > 1e-6);
  }
}
