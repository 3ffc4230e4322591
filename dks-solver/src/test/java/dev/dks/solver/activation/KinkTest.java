package dev.dks.solver.activation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Kinks are reported where dks-math.md section 6 puts them, with the right kind of jump (checked
 * numerically across the kink), and the one-sided convention (x >= kink) holds at the kink.
 */
class KinkTest {
  /** dks-math.md section 6, column "kinks". */
  private static final Map<String, Smoothness> KINKED = Map.of(
      "elu", Smoothness.SECOND_DERIVATIVE_JUMPS,
      "selu", Smoothness.FIRST_DERIVATIVE_JUMPS,
      "relu", Smoothness.FIRST_DERIVATIVE_JUMPS,
      "leaky_relu", Smoothness.FIRST_DERIVATIVE_JUMPS,
      "softsign", Smoothness.SECOND_DERIVATIVE_JUMPS);

  static java.util.List<String> names() {
    return Activations.names();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("names")
  void kinksAndSmoothnessAsDocumented(String name) {
    Activation a = Activations.byName(name);
    if (KINKED.containsKey(name)) {
      assertArrayEquals(new double[] {0.0}, a.kinks(), 0.0, name);
      assertEquals(KINKED.get(name), a.smoothness(), name);
    } else {
      assertEquals(0, a.kinks().length, name);
      assertEquals(Smoothness.SMOOTH, a.smoothness(), name);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("names")
  void jumpOrderConfirmedAcrossZero(String name) {
    Activation a = Activations.byName(name);
    double e = 1e-9;
    double jump0 = Math.abs(a.value(e) - a.value(-e));
    double jump1 = Math.abs(a.derivative(e) - a.derivative(-e));
    double jump2 = Math.abs(a.secondDerivative(e) - a.secondDerivative(-e));
    assertTrue(jump0 < 1e-8, name + ": phi is continuous");
    switch (a.smoothness()) {
      case FIRST_DERIVATIVE_JUMPS -> assertTrue(jump1 > 1e-3, name + ": phi' jumps");
      case SECOND_DERIVATIVE_JUMPS -> {
        assertTrue(jump1 < 1e-7, name + ": phi' continuous");
        assertTrue(jump2 > 1e-3, name + ": phi'' jumps");
      }
      case SMOOTH -> {
        assertTrue(jump1 < 1e-7, name + ": phi' continuous");
        assertTrue(jump2 < 1e-6, name + ": phi'' continuous");
      }
    }
  }

  @Test
  void oneSidedValuesAtTheKinkBelongToThePositiveBranch() {
    assertEquals(1.0, StandardActivation.RELU.derivative(0.0));
    assertEquals(1.0, StandardActivation.RELU.derivative(-0.0));
    assertEquals(1.0, StandardActivation.ELU.derivative(0.0));
    assertEquals(0.0, StandardActivation.ELU.secondDerivative(0.0));
    assertEquals(StandardActivation.SELU_LAMBDA, StandardActivation.SELU.derivative(0.0));
    assertEquals(0.0, StandardActivation.SELU.secondDerivative(0.0));
    assertEquals(1.0, new LeakyRelu(0.3).derivative(0.0));
    assertEquals(-2.0, StandardActivation.SOFTSIGN.secondDerivative(0.0));
    // just left of the kink: the negative branch
    double x = -Double.MIN_VALUE;
    assertEquals(0.0, StandardActivation.RELU.derivative(x));
    assertEquals(0.3, new LeakyRelu(0.3).derivative(x));
    assertEquals(2.0, StandardActivation.SOFTSIGN.secondDerivative(x));
  }

  @Test
  void seluConstantsAreThePublishedOnes() {
    // Klambauer et al. 2017, eq. (14)
    assertEquals(1.0507009873554804934193349852946, StandardActivation.SELU_LAMBDA, 0.0);
    assertEquals(1.6732632423543772848170429916717, StandardActivation.SELU_ALPHA, 0.0);
  }

  @Test
  void leakyReluWithSlopeOneIsSmooth() {
    assertEquals(Smoothness.SMOOTH, new LeakyRelu(1.0).smoothness());
    assertEquals(Smoothness.FIRST_DERIVATIVE_JUMPS, new LeakyRelu(0.0).smoothness());
  }

  @Test
  void onlyJumpsInTheFirstDerivativeMakeCurvatureInfinite() {
    assertTrue(Smoothness.SMOOTH.hasFiniteCurvature());
    assertTrue(Smoothness.SECOND_DERIVATIVE_JUMPS.hasFiniteCurvature());
    assertTrue(!Smoothness.FIRST_DERIVATIVE_JUMPS.hasFiniteCurvature());
  }

  @Test
  void transformedKinksMoveToInputCoordinates() {
    // phi(alpha x + beta) has its kink where alpha x + beta = 0
    Activation t = new TransformedActivation(StandardActivation.RELU, ShapingParams.of(-2, 1, 0, 1));
    assertArrayEquals(new double[] {0.5}, t.kinks(), 1e-15);
    Activation c = new TransformedActivation(new CustomActivation("two", x -> x, x -> 1, x -> 0,
        new double[] {1.0, -3.0}, Smoothness.SECOND_DERIVATIVE_JUMPS), ShapingParams.of(-0.5, 2, 0, 1));
    // (1 - 2)/(-0.5) = 2, (-3 - 2)/(-0.5) = 10, ascending
    assertArrayEquals(new double[] {2.0, 10.0}, c.kinks(), 1e-15);
    Activation flat = new TransformedActivation(StandardActivation.RELU, ShapingParams.of(0, 1, 0, 1));
    assertEquals(0, flat.kinks().length);
    assertEquals(Smoothness.SMOOTH, flat.smoothness());
    assertEquals(2.0, t.inputScaleMagnitude(), 0.0);
  }

  @Test
  void customActivationValidatesAndCopiesKinks() {
    double[] k = {2.0, -1.0};
    CustomActivation c = new CustomActivation("c", x -> x, x -> 1, x -> 0, k,
        Smoothness.SECOND_DERIVATIVE_JUMPS);
    assertArrayEquals(new double[] {-1.0, 2.0}, c.kinks(), 0.0);
    k[0] = 100;
    c.kinks()[0] = 50;
    assertArrayEquals(new double[] {-1.0, 2.0}, c.kinks(), 0.0);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new CustomActivation("bad", x -> x, x -> 1, x -> 0, new double[0],
            Smoothness.FIRST_DERIVATIVE_JUMPS));
    assertTrue(e.getMessage().contains("give the points"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> new CustomActivation("nan", x -> x, x -> 1, x -> 0, new double[] {Double.NaN},
            Smoothness.FIRST_DERIVATIVE_JUMPS));
  }

  @Test
  void customActivationRoutesEachFunction() {
    CustomActivation c = CustomActivation.smooth("c", x -> 1.0, x -> 2.0, x -> 3.0);
    assertEquals(1.0, c.value(0.3));
    assertEquals(2.0, c.derivative(0.3));
    assertEquals(3.0, c.secondDerivative(0.3));
    assertEquals(Smoothness.SMOOTH, c.smoothness());
  }
}
