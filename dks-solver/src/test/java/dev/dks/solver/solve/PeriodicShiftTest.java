package dev.dks.solver.solve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.solver.activation.Activations;
import dev.dks.solver.network.Architectures;
import dev.dks.solver.network.NetworkMaps;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** sin / cos input shifts are reduced modulo 2 pi into [0, 2 pi). */
class PeriodicShiftTest {
  private static final double TWO_PI = 2 * Math.PI;

  @ParameterizedTest(name = "beta = {0}")
  @ValueSource(doubles = {0, 1, -1, 7, -7, 100.5, -5e7, 1.4e7, 6.283185307179586, -1e-20,
      -1e-17, -Double.MIN_VALUE})
  void reductionLandsInHalfOpenInterval(double beta) {
    double r = ActivationKind.reduceShift(beta);
    assertTrue(r >= 0 && r < TWO_PI, "reduceShift(" + beta + ") = " + r);
    // same point on the circle
    assertEquals(Math.sin(beta), Math.sin(r), 1e-8 * Math.max(1, Math.abs(beta)));
    assertEquals(Math.cos(beta), Math.cos(r), 1e-8 * Math.max(1, Math.abs(beta)));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"sin", "cos"})
  void solvedShiftsAreReduced(String name) {
    for (int depth : new int[] {1, 10}) {
      for (Method m : new Method[] {Method.DKS, Method.TAT}) {
        double beta = ShapingSolver.solve(m, List.of(Activations.byName(name)),
            NetworkMaps.of(Architectures.plainChain(depth)), DksTargets.defaults(),
            TatTargets.defaults()).get(name).params().inputShift();
        assertTrue(beta >= 0 && beta < TWO_PI, m + " depth " + depth + ": " + beta);
      }
    }
  }

  @Test
  void onlySinAndCosArePeriodic() {
    for (String n : Activations.names()) {
      boolean periodic = n.equals("sin") || n.equals("cos");
      assertEquals(periodic, ActivationKind.of(Activations.byName(n)) == ActivationKind.PERIODIC, n);
    }
    assertEquals(ActivationKind.RELU, ActivationKind.of(Activations.byName("relu")));
    assertEquals(ActivationKind.LEAKY_RELU, ActivationKind.of(Activations.byName("leaky_relu")));
  }
}
