package dev.dks.solver.solve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The local solver on systems with hand-known roots. */
class LevenbergMarquardtTest {
  private final LevenbergMarquardt lm = new LevenbergMarquardt(1e-12, 600, 1e4);

  @Test
  void scalarSquareRootFindsTheNearbyRoot() {
    RootResult plus = lm.solve(x -> new double[] {x[0] * x[0] - 2}, new double[] {1});
    assertTrue(plus.converged());
    assertEquals(Math.sqrt(2), plus.x()[0], 1e-12);
    RootResult minus = lm.solve(x -> new double[] {x[0] * x[0] - 2}, new double[] {-3});
    assertTrue(minus.converged());
    assertEquals(-Math.sqrt(2), minus.x()[0], 1e-12);
    assertTrue(plus.maxAbsResidual() <= 1e-12);
  }

  @Test
  void circleMeetsDiagonal() {
    VectorFunction f = v -> new double[] {v[0] * v[0] + v[1] * v[1] - 4, v[0] - v[1]};
    RootResult a = lm.solve(f, new double[] {1, 0.5});
    assertTrue(a.converged());
    assertArrayEquals(new double[] {Math.sqrt(2), Math.sqrt(2)}, a.x(), 1e-11);
    RootResult b = lm.solve(f, new double[] {-1, -2});
    assertArrayEquals(new double[] {-Math.sqrt(2), -Math.sqrt(2)}, b.x(), 1e-11);
  }

  @Test
  void threeUnknowns() {
    // x + y + z = 6, x y z = 6, x^2 + y^2 + z^2 = 14: the permutations of (1, 2, 3)
    VectorFunction f = v -> new double[] {v[0] + v[1] + v[2] - 6, v[0] * v[1] * v[2] - 6,
        v[0] * v[0] + v[1] * v[1] + v[2] * v[2] - 14};
    RootResult r = lm.solve(f, new double[] {0.8, 2.3, 2.9});
    assertTrue(r.converged());
    assertArrayEquals(new double[] {1, 2, 3}, r.x(), 1e-10);
  }

  @Test
  void noRealRootIsNotConverged() {
    RootResult r = lm.solve(x -> new double[] {x[0] * x[0] + 1}, new double[] {0.5});
    assertFalse(r.converged());
    assertTrue(r.evaluations() <= 600);
  }

  @Test
  void symmetricStartMakesNoProgress() {
    // F = (x - 1 + y^2, y^2 - 1/4): roots (3/4, +-1/2); at y = 0 the y column of the Jacobian is 0
    VectorFunction f = v -> new double[] {v[0] - 1 + v[1] * v[1], v[1] * v[1] - 0.25};
    RootResult stuck = lm.solve(f, new double[] {1, 0});
    assertFalse(stuck.converged());
    assertEquals(3, stuck.evaluations());
    RootResult moved = lm.solve(f, new double[] {1, 0.1});
    assertTrue(moved.converged());
    assertArrayEquals(new double[] {0.75, 0.5}, moved.x(), 1e-11);
  }

  @Test
  void nonFiniteStartAndNonSquareSystems() {
    RootResult r = lm.solve(x -> new double[] {Double.NaN}, new double[] {1});
    assertFalse(r.converged());
    assertEquals(Double.POSITIVE_INFINITY, r.maxAbsResidual());
    assertThrows(IllegalArgumentException.class,
        () -> lm.solve(x -> new double[] {x[0], x[0]}, new double[] {1}));
  }

  @Test
  void linearSolverAgreesWithHandSolution() {
    double[][] a = {{0, 2, 1}, {1, 1, 1}, {2, 1, 3}};
    // x = (1, 2, 3): b = (7, 6, 13)
    assertArrayEquals(new double[] {1, 2, 3},
        LevenbergMarquardt.solveLinear(a, new double[] {7, 6, 13}), 1e-14);
    assertEquals(null, LevenbergMarquardt.solveLinear(new double[][] {{1, 2}, {2, 4}},
        new double[] {1, 2}));
  }
}
