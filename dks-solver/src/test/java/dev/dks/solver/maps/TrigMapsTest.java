package dev.dks.solver.maps;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dks.solver.activation.StandardActivation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * sin / cos: E[sin u sin v] = e^{-1} sinh(c), E[cos u cos v] = e^{-1} cosh(c) (from E cos(u -+ v)
 * = exp(-(1 -+ c))), so C(c) = sinh c / sinh 1 and cosh c / cosh 1.
 */
class TrigMapsTest {
  private final LocalMaps sin = LocalMaps.of(StandardActivation.SIN);
  private final LocalMaps cos = LocalMaps.of(StandardActivation.COS);

  @ParameterizedTest(name = "c = {0}")
  @ValueSource(doubles = {-1, -0.7, -0.2, 0, 0.35, 0.8, 0.97})
  void cMaps(double c) {
    assertEquals(Math.sinh(c) / Math.sinh(1), sin.c(c), 1e-10);
    assertEquals(Math.cosh(c) / Math.cosh(1), cos.c(c), 1e-10);
  }

  @ParameterizedTest(name = "q = {0}")
  @ValueSource(doubles = {0.1, 1, 2.5})
  void qMaps(double q) {
    assertEquals((1 - Math.exp(-2 * q)) / 2, sin.q(q), 1e-14);
    assertEquals((1 + Math.exp(-2 * q)) / 2, cos.q(q), 1e-14);
  }

  @Test
  void pointValues() {
    assertEquals(Math.exp(-2), sin.qSlope1(), 1e-15);
    assertEquals(-Math.exp(-2), cos.qSlope1(), 1e-15);
    assertEquals(0.0, sin.c0(), 1e-30);
    assertEquals(1 / Math.cosh(1), cos.c0(), 1e-14);
    assertEquals(1 / Math.sinh(1), sin.cSlope0(), 1e-14);
    assertEquals(0.0, cos.cSlope0(), 1e-30);
    assertEquals(Math.cosh(1) / Math.sinh(1), sin.cSlope1(), 1e-14);
    assertEquals(Math.tanh(1), cos.cSlope1(), 1e-14);
    assertEquals(1.0, sin.cCurvature1(), 1e-14);
    assertEquals(1.0, cos.cCurvature1(), 1e-14);
  }
}
