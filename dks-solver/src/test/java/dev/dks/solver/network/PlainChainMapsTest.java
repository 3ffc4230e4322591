package dev.dks.solver.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A chain of L nonlinear layers: mu(x) = x^L, kappa(x) = L x, M(0, C) = C^L(0). */
class PlainChainMapsTest {
  @ParameterizedTest(name = "L = {0}")
  @ValueSource(ints = {1, 2, 5, 10, 50, 100})
  void slopeAndCurvature(int depth) {
    NetworkMaps m = NetworkMaps.of(Architectures.plainChain(depth));
    for (double x : new double[] {0.5, 1.0, 1.01, 1.3, 2.0}) {
      assertEquals(Math.pow(x, depth), m.maxSlope(x), 1e-14 * Math.pow(x, depth), "x=" + x);
      assertEquals(depth * x, m.maxCurvature(x), 1e-14 * depth * x, "x=" + x);
    }
    assertEquals(depth, Architectures.plainChain(depth).depth());
  }

  @Test
  void maxC0ComposesTheLocalMap() {
    NetworkMaps m = NetworkMaps.of(Architectures.plainChain(3));
    // C(c) = (c + 1)/2 three times from 0: 1/2, 3/4, 7/8
    assertEquals(0.875, m.maxC0(c -> (c + 1) / 2), 0.0);
    assertEquals(0.875, m.propagate(0.0, c -> (c + 1) / 2), 0.0);
  }

  @Test
  void depthMustBePositive() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Architectures.plainChain(0));
    org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains(">= 1"));
  }

  @Test
  void userSuppliedFunctionsArePassedThrough() {
    NetworkMaps m = NetworkMaps.ofFunctions(x -> x * x, x -> 3 * x);
    assertEquals(2.25, m.maxSlope(1.5), 0.0);
    assertEquals(4.5, m.maxCurvature(1.5), 0.0);
    assertEquals(java.util.Optional.empty(), m.structure());
  }
}
