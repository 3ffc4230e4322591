package dev.dks.solver.maps;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dks.solver.activation.StandardActivation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * erf closed forms from E[erf(a u) erf(b v)] = (2/pi) arcsin(2 a b rho / sqrt((1+2a^2)(1+2b^2)))
 * (Williams 1997): Q(q) = (2/pi) arcsin(2q/(1+2q)), C(c) = arcsin(2c/3) / arcsin(2/3).
 */
class ErfMapsTest {
  private static final double A = Math.asin(2.0 / 3);
  private final LocalMaps erf = LocalMaps.of(StandardActivation.ERF);

  @ParameterizedTest(name = "c = {0}")
  @ValueSource(doubles = {-1, -0.8, -0.5, -0.1, 0, 0.3, 0.6, 0.9, 0.99})
  void cMap(double c) {
    assertEquals(Math.asin(2 * c / 3) / A, erf.c(c), 1e-10);
  }

  @ParameterizedTest(name = "q = {0}")
  @ValueSource(doubles = {0.04, 0.25, 1, 3, 10})
  void qMap(double q) {
    assertEquals(2 / Math.PI * Math.asin(2 * q / (1 + 2 * q)), erf.q(q), 1e-13);
  }

  @Test
  void derivativesOfTheClosedForm() {
    assertEquals(2 / Math.PI * A, erf.q1(), 1e-15);
    // d/dq (2/pi) arcsin(2q/(1+2q)) at q = 1: (2/pi) (2/9) / sqrt(1 - 4/9) = 4 / (3 sqrt(5) pi)
    assertEquals(4 / (3 * Math.sqrt(5) * Math.PI), erf.qSlope1(), 1e-15);
    assertEquals(0.0, erf.c0(), 1e-30);
    assertEquals((2.0 / 3) / A, erf.cSlope0(), 1e-14);
    assertEquals(2 / (Math.sqrt(5) * A), erf.cSlope1(), 1e-14);
    // C''(c) = (2/3)(4c/9) / (A (1 - 4c^2/9)^{3/2}) at c = 1
    assertEquals((8.0 / 27) / (A * Math.pow(5.0 / 9, 1.5)), erf.cCurvature1(), 1e-14);
  }
}
