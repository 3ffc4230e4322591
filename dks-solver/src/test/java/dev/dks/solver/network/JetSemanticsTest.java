package dev.dks.solver.network;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The (slope, curvature) jet at c = 1 propagated through a structure equals the finite-difference
 * derivatives of the network C map composed by hand from the smooth erf closed form
 * C(c) = arcsin(2c/3) / arcsin(2/3).
 */
class JetSemanticsTest {
  private static final double A = Math.asin(2.0 / 3);

  private static double erfC(double c) {
    return Math.asin(2 * c / 3) / A;
  }

  private static final double SLOPE = (2.0 / 3) / (A * Math.sqrt(1 - 4.0 / 9));
  private static final double CURV = (2.0 / 3) * (4.0 / 9) / (A * Math.pow(1 - 4.0 / 9, 1.5));

  /** Fourth-order one-sided (backward) first derivative at 1. */
  private static double slopeAtOne(DoubleUnaryOperator f, double h) {
    return (25 * f.applyAsDouble(1) - 48 * f.applyAsDouble(1 - h) + 36 * f.applyAsDouble(1 - 2 * h)
        - 16 * f.applyAsDouble(1 - 3 * h) + 3 * f.applyAsDouble(1 - 4 * h)) / (12 * h);
  }

  /** Fourth-order one-sided second derivative at 1. */
  private static double curvatureAtOne(DoubleUnaryOperator f, double h) {
    return (45 * f.applyAsDouble(1) - 154 * f.applyAsDouble(1 - h)
        + 214 * f.applyAsDouble(1 - 2 * h) - 156 * f.applyAsDouble(1 - 3 * h)
        + 61 * f.applyAsDouble(1 - 4 * h) - 10 * f.applyAsDouble(1 - 5 * h)) / (12 * h * h);
  }

  @Test
  void localConstantsMatchFiniteDifferences() {
    assertEquals(SLOPE, slopeAtOne(JetSemanticsTest::erfC, 1e-3), 1e-9);
    assertEquals(CURV, curvatureAtOne(JetSemanticsTest::erfC, 1e-3), 1e-6);
  }

  @ParameterizedTest(name = "L = {0}")
  @ValueSource(ints = {1, 2, 4, 7})
  void chainOfErfLayers(int depth) {
    DoubleUnaryOperator composed = c -> {
      for (int i = 0; i < depth; i++) {
        c = erfC(c);
      }
      return c;
    };
    double[] jet = Architectures.plainChain(depth)
        .propagate(new double[] {1, 0}, new JetSemantics(SLOPE, CURV));
    double h = 2e-3 / depth;
    double fdSlope = slopeAtOne(composed, h);
    double fdCurv = curvatureAtOne(composed, h);
    assertEquals(fdSlope, jet[0], 1e-7 * fdSlope, "slope");
    assertEquals(fdCurv, jet[1], 1e-4 * fdCurv, "curvature");
    assertEquals(Math.pow(SLOPE, depth), jet[0], 1e-13 * jet[0]);
  }

  @Test
  void residualStructure() {
    // layer; 0.6 skip + 0.8 (layer, layer); layer: C_net(c) = C(0.36 C(c) + 0.64 C(C(C(c))))
    Structure s = Structure.series(Structure.layer(),
        Structure.normalizedSum(new double[] {0.6, 0.8}, Structure.affine(), Structure.chain(2)),
        Structure.layer());
    DoubleUnaryOperator composed = c -> {
      double v = erfC(c);
      v = 0.36 * v + 0.64 * erfC(erfC(v));
      return erfC(v);
    };
    double[] jet = s.propagate(new double[] {1, 0}, new JetSemantics(SLOPE, CURV));
    assertEquals(slopeAtOne(composed, 5e-4), jet[0], 1e-7 * jet[0], "slope");
    assertEquals(curvatureAtOne(composed, 5e-4), jet[1], 1e-4 * jet[1], "curvature");
  }

  @Test
  void tatRegimeCurvaturesAdd() {
    // with local C'(1) = 1 curvatures add: a chain of 9 gives 9 b
    double[] jet = Architectures.plainChain(9)
        .propagate(new double[] {1, 0}, new JetSemantics(1.0, 0.125));
    assertArrayEquals(new double[] {1.0, 9 * 0.125}, jet, 1e-15);
  }

  @Test
  void singleLayerRuleAndCombinators() {
    JetSemantics j = new JetSemantics(2.0, 3.0);
    // (a s, b s^2 + a k) with s = 1.5, k = 0.5
    assertArrayEquals(new double[] {3.0, 3.0 * 2.25 + 2.0 * 0.5}, j.layer(new double[] {1.5, 0.5}),
        1e-15);
    assertArrayEquals(new double[] {0.25 * 1 + 0.75 * 3, 0.25 * 8 + 0.75 * 4},
        j.weightedAverage(new double[] {0.25, 0.75}, List.of(new double[] {1, 8},
            new double[] {3, 4})), 1e-15);
    assertArrayEquals(new double[] {3, 8},
        j.max(List.of(new double[] {1, 8}, new double[] {3, 4})), 0.0);
  }

  /**
   * A kinked activation (leaky ReLU) has local C''(1) = +Infinity. A branch with weight 0 (the
   * pre-activated shortcut of a vanilla ResNet, w = 0) must contribute nothing, not 0 * Infinity =
   * NaN: the network curvature is +Infinity, as NetworkKernelValues documents.
   */
  @Test
  void zeroWeightBranchDoesNotTurnInfiniteCurvatureIntoNaN() {
    JetSemantics kinked = new JetSemantics(1.0, Double.POSITIVE_INFINITY);
    Structure block = Structure.normalizedSum(new double[] {0.0, 1.0}, Structure.layer(),
        Structure.chain(3));
    double[] jet = block.propagate(new double[] {1, 0}, kinked);
    assertEquals(1.0, jet[0], 0.0);
    assertEquals(Double.POSITIVE_INFINITY, jet[1], 0.0);
    double[] net = Architectures.resnet(50, 0.0, true).propagate(new double[] {1, 0}, kinked);
    assertEquals(Double.POSITIVE_INFINITY, net[1], 0.0);
  }
}
