package dev.dks.solver.solve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The reference's ordered start list (dks-math.md section 7.2): the Cartesian product of the
 * "always try" values, first unknown slowest, then NumPy-seed-123 uniform draws up to 50 points.
 * Random values are NumPy outputs (np.random.seed(123); np.random.uniform(...)).
 */
class StartPointsTest {
  @Test
  void dksGeneric() {
    List<double[]> s = StartPoints.forUnknowns(List.of(Unknown.INPUT_SCALE, Unknown.INPUT_SHIFT));
    assertEquals(50, s.size());
    double[][] grid = {{1, 0}, {1, 1}, {1, -1}, {0.1, 0}, {0.1, 1}, {0.1, -1}};
    for (int i = 0; i < grid.length; i++) {
      assertArrayEquals(grid[i], s.get(i), 0.0, "grid point " + i);
    }
    assertArrayEquals(new double[] {1.3929383711957233, -1.2831639902977232}, s.get(6), 0.0);
    assertArrayEquals(new double[] {0.4537029071284062, 0.3078886144973474}, s.get(7), 0.0);
    assertArrayEquals(new double[] {1.4389379395711261, -0.46136123925323425}, s.get(8), 0.0);
    for (double[] p : s.subList(6, 50)) {
      assertTrue(p[0] >= 0 && p[0] < 2 && p[1] >= -3 && p[1] < 3);
    }
  }

  @Test
  void tatSmooth() {
    List<double[]> s = StartPoints.forUnknowns(
        List.of(Unknown.INPUT_SCALE, Unknown.INPUT_SHIFT, Unknown.OUTPUT_SHIFT));
    assertEquals(50, s.size());
    assertArrayEquals(new double[] {1, 0, 0}, s.get(0), 0.0);
    assertArrayEquals(new double[] {1, 0, 1}, s.get(1), 0.0);
    assertArrayEquals(new double[] {1, 1, 0}, s.get(3), 0.0);
    assertArrayEquals(new double[] {0.1, -1, -1}, s.get(17), 0.0);
    assertArrayEquals(new double[] {1.3929383711957233, -1.2831639902977232, -1.6388912786147813},
        s.get(18), 0.0);
    assertArrayEquals(new double[] {1.1026295381657825, 1.3168138187133787, -0.46136123925323425},
        s.get(19), 0.0);
  }

  @Test
  void leakyAndRelu() {
    List<double[]> l = StartPoints.forUnknowns(List.of(Unknown.NEGATIVE_SLOPE, Unknown.INPUT_SHIFT));
    assertArrayEquals(new double[] {0, 0}, l.get(0), 0.0);
    assertArrayEquals(new double[] {0.5, -1}, l.get(5), 0.0);
    // np.random.seed(123); uniform(0, 1), uniform(-3, 3)
    assertArrayEquals(new double[] {0.6964691855978616, -1.2831639902977232}, l.get(6), 0.0);
    assertArrayEquals(new double[] {0.2268514535642031, 0.3078886144973474}, l.get(7), 0.0);
    List<double[]> r = StartPoints.forUnknowns(List.of(Unknown.INPUT_SCALE));
    assertEquals(50, r.size());
    assertArrayEquals(new double[] {1.0}, r.get(0), 0.0);
    assertArrayEquals(new double[] {0.1}, r.get(1), 0.0);
    assertArrayEquals(new double[] {2 * 0.6964691855978616}, r.get(2), 1e-16);
    assertArrayEquals(new double[] {2 * 0.28613933495037946}, r.get(3), 1e-16);
  }

  @Test
  void unknownRangesAreTheReferences() {
    assertArrayEquals(new double[] {1.0, 0.1}, Unknown.INPUT_SCALE.alwaysTry(), 0.0);
    assertArrayEquals(new double[] {0, 1, -1}, Unknown.INPUT_SHIFT.alwaysTry(), 0.0);
    assertArrayEquals(new double[] {0, 1, -1}, Unknown.OUTPUT_SHIFT.alwaysTry(), 0.0);
    assertArrayEquals(new double[] {0, 0.5}, Unknown.NEGATIVE_SLOPE.alwaysTry(), 0.0);
    assertEquals(0.0, Unknown.INPUT_SCALE.randomLow(), 0.0);
    assertEquals(2.0, Unknown.INPUT_SCALE.randomHigh(), 0.0);
    assertEquals(-3.0, Unknown.OUTPUT_SHIFT.randomLow(), 0.0);
    assertEquals(1.0, Unknown.NEGATIVE_SLOPE.randomHigh(), 0.0);
    assertEquals(123, StartPoints.SEED);
  }
}
