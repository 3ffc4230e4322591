package dev.dks.solver.maps;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dks.solver.activation.ShapingParams;
import dev.dks.solver.activation.SpecialFunctions;
import dev.dks.solver.activation.StandardActivation;
import dev.dks.solver.activation.TransformedActivation;
import dev.dks.solver.quadrature.IndependentGaussian;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * C(c) of relu(z + b), a kink away from 0 (what every DKS-shaped relu looks like). Independent
 * values: the inner expectation has the closed form E[relu(a + s z)] = a Phi(a/s) + s phi(a/s),
 * the outer one is done by the Boole rule split at both the kink -b and the point b/|c| where the
 * inner function turns; at c = -1, E[relu(z+b) relu(-z+b)] = (b^2 - 1)(2 Phi(b) - 1) + 2 b phi(b).
 */
class ShiftedReluCMapTest {
  private static double q1(double b) {
    return (1 + b * b) * SpecialFunctions.normalCdf(b) + b * SpecialFunctions.normalPdf(b);
  }

  private static double independentC(double b, double c) {
    if (c == -1) {
      double num = b <= 0 ? 0
          : (b * b - 1) * (2 * SpecialFunctions.normalCdf(b) - 1)
              + 2 * b * SpecialFunctions.normalPdf(b);
      return num / q1(b);
    }
    double s = Math.sqrt(1 - c * c);
    double turn = -b / c; // c z + b = 0
    double num = IndependentGaussian.mean(z -> {
      double u = z + b;
      if (u <= 0) {
        return 0;
      }
      double a = c * z + b;
      return u * (a * SpecialFunctions.normalCdf(a / s) + s * SpecialFunctions.normalPdf(a / s));
    }, new double[] {-b, turn}, Math.min(1e-3, s / 50));
    return num / q1(b);
  }

  @ParameterizedTest(name = "b = {0}, c = {1}")
  @CsvSource({
    "0.3, -0.9", "0.3, -0.5", "0.3, 0.3", "0.3, 0.9",
    "1.0, -0.9", "-0.4, 0.6",
  })
  void awayFromPlusMinusOne(double b, double c) {
    LocalMaps m = LocalMaps.of(new TransformedActivation(StandardActivation.RELU,
        ShapingParams.of(1, b, 0, 1)));
    assertEquals(independentC(b, c), m.c(c), 1e-10);
  }

  @ParameterizedTest(name = "b = {0}, c = {1}")
  @CsvSource({
    "0.3, -1", "0.5, -1", "1.0, -1",
    "0.3, -0.999", "0.3, 0.999",
  })
  void nearAndAtPlusMinusOne(double b, double c) {
    LocalMaps m = LocalMaps.of(new TransformedActivation(StandardActivation.RELU,
        ShapingParams.of(1, b, 0, 1)));
    assertEquals(independentC(b, c), m.c(c), 1e-10);
  }
}
