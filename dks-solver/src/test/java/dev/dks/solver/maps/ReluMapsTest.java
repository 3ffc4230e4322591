package dev.dks.solver.maps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.solver.activation.StandardActivation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * ReLU closed forms: Q(q) = q/2 and the normalized arc-cosine kernel (Cho and Saul 2009) C(c) =
 * (sqrt(1-c^2) + (pi - arccos c) c) / pi.
 */
class ReluMapsTest {
  private final LocalMaps relu = LocalMaps.of(StandardActivation.RELU);

  static double arcCosine(double c) {
    return (Math.sqrt(1 - c * c) + (Math.PI - Math.acos(c)) * c) / Math.PI;
  }

  @ParameterizedTest(name = "c = {0}")
  @ValueSource(doubles = {-1, -0.5, 0, 0.3, 0.9})
  void cMapIsTheNormalizedArcCosineKernel(double c) {
    assertEquals(arcCosine(c), relu.c(c), 1e-10);
  }

  @Test
  void cAtMinusOneHalfIsTheExactValueNotTheReferencesDblquadValue() {
    // exact: (sqrt(3)/2 - (pi/3)/2) / pi = 0.10900..., the reference's dblquad gives 0.0969
    double exact = (Math.sqrt(3) / 2 - Math.PI / 6) / Math.PI;
    assertEquals(0.10899778104422940, exact, 1e-16);
    assertEquals(exact, relu.c(-0.5), 1e-10);
    assertTrue(Math.abs(relu.c(-0.5) - 0.0969) > 0.01);
  }

  @ParameterizedTest(name = "q = {0}")
  @ValueSource(doubles = {0, 0.01, 0.3, 1, 2, 7.5})
  void qMapIsHalfQ(double q) {
    assertEquals(q / 2, relu.q(q), 1e-14 * Math.max(1, q));
  }

  @Test
  void pointValues() {
    assertEquals(0.5, relu.q1(), 1e-15);
    assertEquals(0.5, relu.qSlope1(), 1e-15);
    assertEquals(1 / Math.PI, relu.c0(), 1e-15); // E[relu]^2 / Q(1) = (1/(2 pi)) / (1/2)
    assertEquals(0.5, relu.cSlope0(), 1e-15); // (1/2)^2 / (1/2)
    assertEquals(1.0, relu.cSlope1(), 1e-15);
    assertEquals(Double.POSITIVE_INFINITY, relu.cCurvature1());
    assertEquals(1.0, relu.c(1.0), 0.0);
  }
}
