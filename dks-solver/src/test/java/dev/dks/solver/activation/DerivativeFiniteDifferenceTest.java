package dev.dks.solver.activation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleUnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * phi' and phi'' agree with fourth-order central finite differences of phi and phi' (away from
 * kinks), for every named activation, a few custom activations and shaped activations (chain
 * rule of {@link TransformedActivation}).
 */
class DerivativeFiniteDifferenceTest {
  private static final double[] POINTS = {
    -9.5, -4.3, -2.1, -1.05, -0.77, -0.3, -0.02, 0.05, 0.41, 0.93, 1.3, 2.9, 5.5, 11.0
  };
  private static final double H = 1e-3;

  static Stream<Arguments> activations() {
    List<Arguments> out = new ArrayList<>();
    for (String name : Activations.names()) {
      out.add(Arguments.of(name, Activations.byName(name)));
    }
    out.add(Arguments.of("leaky_relu(0.2)", new LeakyRelu(0.2)));
    out.add(Arguments.of("leaky_relu(-0.3)", new LeakyRelu(-0.3)));
    out.add(Arguments.of("custom x exp(-x^2/2)", CustomActivation.smooth("bump",
        x -> x * Math.exp(-0.5 * x * x),
        x -> (1 - x * x) * Math.exp(-0.5 * x * x),
        x -> (x * x * x - 3 * x) * Math.exp(-0.5 * x * x))));
    out.add(Arguments.of("custom cubic", CustomActivation.smooth("cubic",
        x -> x * x * x - 0.5 * x, x -> 3 * x * x - 0.5, x -> 6 * x)));
    out.add(Arguments.of("custom hard tanh-ish (kinks at +-1)", new CustomActivation("clipcube",
        x -> x > 1 ? 1 + (x - 1) * 0.1 : x < -1 ? -1 + (x + 1) * 0.1 : x,
        x -> Math.abs(x) > 1 ? 0.1 : 1.0,
        x -> 0.0,
        new double[] {1.0, -1.0}, Smoothness.FIRST_DERIVATIVE_JUMPS)));
    out.add(Arguments.of("shaped tanh", new TransformedActivation(StandardActivation.TANH,
        ShapingParams.of(-1.7, 0.3, 0.2, 2.5))));
    out.add(Arguments.of("shaped gelu", new TransformedActivation(StandardActivation.GELU,
        ShapingParams.of(0.37, -1.2, 0.4, 3.1))));
    out.add(Arguments.of("shaped elu", new TransformedActivation(StandardActivation.ELU,
        ShapingParams.of(2.3, 0.61, -0.1, 0.7))));
    out.add(Arguments.of("shaped leaky", new TransformedActivation(new LeakyRelu(0.01),
        new ShapingParams(1.0, 0.25, -0.3, 1.4, java.util.OptionalDouble.of(0.4)))));
    out.add(Arguments.of("shaped custom", new TransformedActivation(CustomActivation.smooth(
        "sq", x -> x * x, x -> 2 * x, x -> 2.0), ShapingParams.of(0.5, 1.5, -2, 3))));
    return out.stream();
  }

  /** Fourth-order central difference (-f(x+2h) + 8 f(x+h) - 8 f(x-h) + f(x-2h)) / 12h. */
  static double fd(DoubleUnaryOperator f, double x, double h) {
    return (-f.applyAsDouble(x + 2 * h) + 8 * f.applyAsDouble(x + h)
        - 8 * f.applyAsDouble(x - h) + f.applyAsDouble(x - 2 * h)) / (12 * h);
  }

  private static boolean nearKink(Activation a, double x) {
    for (double k : a.kinks()) {
      if (Math.abs(x - k) < 10 * H) {
        return true;
      }
    }
    return false;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("activations")
  void firstDerivativeMatchesFiniteDifference(String label, Activation a) {
    assertMatchesFiniteDifference(a, a::value, a::derivative, label + " phi'");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("activations")
  void secondDerivativeMatchesFiniteDifference(String label, Activation a) {
    assertMatchesFiniteDifference(a, a::derivative, a::secondDerivative, label + " phi''");
  }

  /** {@code df} agrees with the finite difference of {@code f} at 10+ points away from kinks. */
  private static void assertMatchesFiniteDifference(Activation a, DoubleUnaryOperator f,
      DoubleUnaryOperator df, String what) {
    int checked = 0;
    for (double x : POINTS) {
      if (nearKink(a, x)) {
        continue;
      }
      double expected = fd(f, x, H);
      double tol = 1e-7 * Math.max(Math.abs(expected), 1e-3);
      assertEquals(expected, df.applyAsDouble(x), tol, what + "(" + x + ")");
      checked++;
    }
    assertTrue(checked >= 10);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("activations")
  void evaluateAgreesWithSeparateCalls(String label, Activation a) {
    double[] out = new double[3];
    for (double x : POINTS) {
      a.evaluate(x, out);
      assertEquals(a.value(x), out[0], 1e-15 * Math.max(1, Math.abs(out[0])), label);
      assertEquals(a.derivative(x), out[1], 1e-15 * Math.max(1, Math.abs(out[1])), label);
      assertEquals(a.secondDerivative(x), out[2], 1e-15 * Math.max(1, Math.abs(out[2])), label);
    }
  }
}
