package dev.dks.solver.activation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The {@link Activation} contract: "return finite doubles for finite inputs (no overflow to NaN
 * for large |x|)". Checked far out, where every derivative has a simple limit.
 */
class LargeInputTest {
  private static final double[] XS = {1e30, 1e160, 1e300, -1e30, -1e160, -1e300};

  static List<String> names() {
    return Activations.names();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("names")
  void noNaNForHugeInputs(String name) {
    Activation a = Activations.byName(name);
    for (double x : XS) {
      assertFalse(Double.isNaN(a.value(x)), name + " phi(" + x + ") is NaN");
      assertFalse(Double.isNaN(a.derivative(x)), name + " phi'(" + x + ") is NaN");
      assertFalse(Double.isNaN(a.secondDerivative(x)), name + " phi''(" + x + ") is NaN");
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("names")
  void valueIsFiniteWhenTheTrueValueIsRepresentable(String name) {
    if (name.equals("square")) {
      return; // x^2 genuinely overflows
    }
    Activation a = Activations.byName(name);
    for (double x : XS) {
      double v = a.value(x);
      assertFalse(Double.isInfinite(v), name + " phi(" + x + ") = " + v);
    }
  }

  /** bentid(x) = (sqrt(x^2+1) - 1)/2 + x ~ 1.5 x for x -> +inf and 0.5 x for x -> -inf. */
  @ParameterizedTest(name = "x = {0}")
  @org.junit.jupiter.params.provider.ValueSource(doubles = {1e10, 1e160, -1e10, -1e160})
  void bentIdentityAsymptotes(double x) {
    double expected = x > 0 ? 1.5 * x : 0.5 * x;
    assertEquals(expected, StandardActivation.BENTID.value(x), 1e-9 * Math.abs(expected));
  }
}
