package dev.dks.solver.solve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.solver.network.Architectures;
import dev.dks.solver.network.NetworkMaps;
import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

/** The reference's scalar solver, rule by rule (dks-math.md section 7.1). */
class BisectionTest {
  private static final String MSG = "target probably unachievable: use another";

  private static DoubleUnaryOperator recording(DoubleUnaryOperator f, List<Double> xs) {
    return x -> {
      xs.add(x);
      return f.applyAsDouble(x);
    };
  }

  @Test
  void doublesWhileTheUpperBoundIsInfinite() {
    List<Double> xs = new ArrayList<>();
    double r = Bisection.solveIncreasing(recording(x -> x, xs), 10, 1.1, 1, Double.POSITIVE_INFINITY,
        1e-8, 100, MSG);
    // 1.1 -> 2.2 -> 4.4 -> 8.8 -> 17.6 (too big) -> (8.8+17.6)/2 -> (8.8+13.2)/2 -> (8.8+11)/2 ...
    double[] expected = {1.1, 2.2, 4.4, 8.8, 17.6, 13.2, 11.0, 9.9, 10.45, 10.175};
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], xs.get(i), 1e-14, "evaluation " + i);
    }
    assertEquals(10.0, r, 1e-8);
    assertTrue(Math.abs(r - 10) < 1e-8);
    assertTrue(xs.size() < 100);
    assertEquals(r, xs.get(xs.size() - 1), 0.0, "returns the last evaluated point");
  }

  @Test
  void bisectsTowardsLoWhenTooBig() {
    List<Double> xs = new ArrayList<>();
    double r = Bisection.solveIncreasing(recording(x -> x * x, xs), 0.09, 0.5, 0, 1, 1e-12, 100,
        MSG);
    // 0.5 (0.25 > 0.09) -> 0.25 (0.0625 < 0.09) -> 0.375 -> 0.3125 -> 0.28125 ...
    assertEquals(List.of(0.5, 0.25, 0.375, 0.3125, 0.28125), xs.subList(0, 5));
    assertEquals(0.3, r, 1e-11);
  }

  @Test
  void returnsTheStartWhenItIsGoodEnough() {
    List<Double> xs = new ArrayList<>();
    assertEquals(1.1, Bisection.solveIncreasing(recording(x -> x, xs), 1.1 + 5e-9, 1.1, 1,
        Double.POSITIVE_INFINITY, 1e-8, 100, MSG), 0.0);
    assertEquals(1, xs.size());
  }

  @Test
  void throwsAfterExactlyMaxEvaluations() {
    int[] count = {0};
    UnreachableTargetException e = assertThrows(UnreachableTargetException.class,
        () -> Bisection.solveIncreasing(x -> {
          count[0]++;
          return 0.0;
        }, 1.0, 1.1, 1, Double.POSITIVE_INFINITY, 1e-8, 100, MSG));
    assertEquals(100, count[0]);
    assertEquals(MSG, e.getMessage());
    // bounded interval: x creeps towards hi = 1 but never gets there
    List<Double> xs = new ArrayList<>();
    assertThrows(UnreachableTargetException.class, () -> Bisection.solveIncreasing(
        recording(x -> x, xs), 2.0, 0.5, 0, 1, 1e-8, Bisection.DEFAULT_MAX_EVALUATIONS, MSG));
    assertEquals(100, xs.size());
    assertEquals(List.of(0.5, 0.75, 0.875), xs.subList(0, 3));
  }

  @Test
  void defaultsAreTheReferences() {
    assertEquals(1e-8, Bisection.DEFAULT_TOLERANCE, 0.0);
    assertEquals(100, Bisection.DEFAULT_MAX_EVALUATIONS);
  }

  @Test
  void localTargetsOfChains() {
    for (int depth : new int[] {1, 3, 10, 50}) {
      NetworkMaps m = NetworkMaps.of(Architectures.plainChain(depth));
      double xi = DksSolver.localSlopeTarget(m, 1.5);
      assertEquals(1.5, Math.pow(xi, depth), 1e-8, "mu(xi) = zeta");
      assertEquals(Math.pow(1.5, 1.0 / depth), xi, 1e-8);
      double tauLoc = TatSolver.localCurvatureTarget(m, 0.3);
      assertEquals(0.3, depth * tauLoc, 1e-8, "kappa(tau_loc) = tau");
    }
  }
}
