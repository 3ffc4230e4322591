package dev.dks.solver.activation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

/** gamma * (phi(alpha x + beta) + delta) and its chain-rule derivatives, written out by hand. */
class TransformedActivationTest {
  @Test
  void chainRuleForSin() {
    double a = -1.3;
    double b = 0.7;
    double d = 0.25;
    double g = 2.2;
    TransformedActivation t =
        new TransformedActivation(StandardActivation.SIN, ShapingParams.of(a, b, d, g));
    for (double x = -3; x <= 3; x += 0.41) {
      double u = a * x + b;
      assertEquals(g * (Math.sin(u) + d), t.value(x), 1e-15);
      assertEquals(g * a * Math.cos(u), t.derivative(x), 1e-15);
      assertEquals(-g * a * a * Math.sin(u), t.secondDerivative(x), 1e-14);
    }
    assertEquals("sin", t.id());
  }

  @Test
  void chainRuleForExp() {
    // phi = exp via a custom activation: phi_hat(x) = g (e^{a x + b} + d)
    Activation exp = CustomActivation.smooth("exp", Math::exp, Math::exp, Math::exp);
    double a = 0.6;
    double b = -0.4;
    TransformedActivation t = new TransformedActivation(exp, ShapingParams.of(a, b, -1, 3));
    for (double x = -2; x <= 2; x += 0.5) {
      double e = Math.exp(a * x + b);
      assertEquals(3 * (e - 1), t.value(x), 1e-14);
      assertEquals(3 * a * e, t.derivative(x), 1e-14);
      assertEquals(3 * a * a * e, t.secondDerivative(x), 1e-14);
    }
  }

  @Test
  void negativeSlopeReplacesTheLeakyBase() {
    TransformedActivation t = new TransformedActivation(new LeakyRelu(0.01),
        new ShapingParams(1, 0, 0, 2, OptionalDouble.of(0.25)));
    assertEquals(2 * 0.25 * -3, t.value(-3), 1e-15);
    assertEquals(2 * 0.25, t.derivative(-1), 1e-15);
    assertEquals(0.25, ((LeakyRelu) t.base()).negativeSlope(), 0.0);
    assertEquals("leaky_relu", t.id());
  }

  @Test
  void negativeSlopeOnOtherActivationsIsRejected() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new TransformedActivation(StandardActivation.TANH,
            new ShapingParams(1, 0, 0, 1, OptionalDouble.of(0.2))));
    assertTrue(e.getMessage().contains("leaky_relu"), e.getMessage());
  }

  @Test
  void identityParamsLeaveTheActivationUnchanged() {
    TransformedActivation t =
        new TransformedActivation(StandardActivation.GELU, ShapingParams.IDENTITY);
    for (double x = -4; x <= 4; x += 0.3) {
      assertEquals(StandardActivation.GELU.value(x), t.value(x), 0.0);
      assertEquals(StandardActivation.GELU.derivative(x), t.derivative(x), 0.0);
    }
    assertSame(ShapingParams.IDENTITY, t.params());
    assertEquals(1.0, t.inputScaleMagnitude(), 0.0);
  }
}
