package dev.dks.solver.network;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

/** Normalized sums, concatenations, maxima and series, checked against hand computations. */
class StructureAlgebraTest {
  private static double m(Structure s, double x, DoubleUnaryOperator r) {
    return s.propagate(x, new ScalarSemantics(r));
  }

  @Test
  void normalizedSumRequiresUnitSumOfSquares() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Structure.normalizedSum(new double[] {0.5, 0.5}, Structure.layer(),
            Structure.affine()));
    assertTrue(e.getMessage().contains("sqrt(1-w^2)"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> Structure.normalizedSum(new double[] {0.6, 0.8 + 1e-8}, Structure.layer(),
            Structure.affine()));
    assertThrows(IllegalArgumentException.class,
        () -> Structure.normalizedSum(new double[] {1, 1}, Structure.layer(),
            Structure.affine()));
    assertThrows(IllegalArgumentException.class,
        () -> Structure.normalizedSum(new double[] {Double.NaN, 1}, Structure.layer(),
            Structure.affine()));
    assertThrows(IllegalArgumentException.class,
        () -> Structure.normalizedSum(new double[] {1}, Structure.layer(), Structure.affine()));
    assertThrows(IllegalArgumentException.class, () -> Structure.normalizedSum(new double[0]));
    double t = 1 / Math.sqrt(3);
    assertDoesNotThrow(() -> Structure.normalizedSum(new double[] {t, t, t}, Structure.layer(),
        Structure.affine(), Structure.chain(2)));
    assertDoesNotThrow(() -> Structure.normalizedSum(new double[] {-0.6, 0.8}, Structure.layer(),
        Structure.affine()));
  }

  @Test
  void normalizedSumAveragesWithSquaredWeights() {
    Structure s = Structure.normalizedSum(new double[] {0.6, -0.8}, Structure.affine(),
        Structure.layer());
    // 0.36 * x + 0.64 * r(x)
    assertEquals(0.36 * 2 + 0.64 * 7, m(s, 2, y -> y + 5), 1e-15);
  }

  @Test
  void concatenationAveragesWithWidthFractions() {
    Structure s = Structure.concat(new long[] {1, 3}, Structure.layer(), Structure.affine());
    assertEquals(0.25 * 2.0 + 0.75 * 0.5, m(s, 0.5, y -> 2 * y + 1), 1e-15);
    Structure big = Structure.concat(new long[] {3_000_000_000L, 1_000_000_000L},
        Structure.chain(2), Structure.layer());
    assertEquals(0.75 * 4 + 0.25 * 2, m(big, 1, y -> 2 * y), 1e-15);
    assertThrows(IllegalArgumentException.class,
        () -> Structure.concat(new long[] {1, 0}, Structure.layer(), Structure.affine()));
    assertThrows(IllegalArgumentException.class,
        () -> Structure.concat(new long[] {1}, Structure.layer(), Structure.affine()));
  }

  @Test
  void maxTakesTheLargestCandidate() {
    Structure s = Structure.max(Structure.chain(2), Structure.chain(5), Structure.affine());
    assertEquals(Math.pow(1.2, 5), m(s, 1, y -> 1.2 * y), 1e-15);
    assertEquals(1.0, m(s, 1, y -> 0.8 * y), 0.0);
    assertEquals(-Math.pow(0.8, 5), m(Structure.max(Structure.chain(2), Structure.chain(5)), -1,
        y -> 0.8 * y), 1e-15);
    assertThrows(IllegalArgumentException.class, () -> Structure.max());
    assertEquals(5, s.depth());
  }

  @Test
  void handComputedSmallNetwork() {
    // layer; 0.6 skip + 0.8 two-layer branch; concat(2 wide: layer, 6 wide: layer-affine-layer);
    // max(layer, identity)
    Structure s = Structure.series(
        Structure.layer(),
        Structure.normalizedSum(new double[] {0.6, 0.8}, Structure.affine(), Structure.chain(2)),
        Structure.concat(new long[] {2, 6}, Structure.layer(),
            Structure.series(Structure.layer(), Structure.affine(), Structure.layer())),
        Structure.max(Structure.layer(), Structure.affine()));
    DoubleUnaryOperator r = y -> y * y + 0.1;
    double v = 0.5;
    v = v * v + 0.1; // 0.35
    double rr = r.applyAsDouble(r.applyAsDouble(v));
    v = 0.36 * v + 0.64 * rr;
    double one = r.applyAsDouble(v);
    double two = r.applyAsDouble(r.applyAsDouble(v));
    v = 0.25 * one + 0.75 * two;
    v = Math.max(r.applyAsDouble(v), v);
    assertEquals(v, m(s, 0.5, r), 1e-15);
    assertEquals(0.12896885284575216, v, 1e-15); // same arithmetic done in Python
    assertEquals(1 + 2 + 2 + 1, s.depth());
  }

  @Test
  void affineAndEmptyChainAreIdentity() {
    assertEquals(0.7, m(Structure.affine(), 0.7, y -> 100 * y), 0.0);
    assertEquals(0.7, m(Structure.chain(0), 0.7, y -> 100 * y), 0.0);
    assertEquals(0, Structure.chain(0).depth());
    assertThrows(IllegalArgumentException.class, () -> Structure.chain(-1));
  }
}
