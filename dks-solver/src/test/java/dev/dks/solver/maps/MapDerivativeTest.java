package dev.dks.solver.maps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.activation.ShapingParams;
import dev.dks.solver.activation.StandardActivation;
import dev.dks.solver.activation.TransformedActivation;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The point values Q'(1), C'(0), C'(1) (moment formulas) against finite differences of the maps
 * Q(q) and C(c) themselves (different code paths: rescaled rule, nested rule).
 */
class MapDerivativeTest {
  static Stream<Arguments> all() {
    return Activations.names().stream()
        .map(n -> Arguments.of(n, Activations.byName(n)));
  }

  static Stream<Arguments> smooth() {
    return Stream.of(
        Arguments.of("tanh", StandardActivation.TANH),
        Arguments.of("erf", StandardActivation.ERF),
        Arguments.of("gelu", StandardActivation.GELU),
        Arguments.of("softplus", StandardActivation.SOFTPLUS),
        Arguments.of("sigmoid", StandardActivation.SIGMOID),
        Arguments.of("atan", StandardActivation.ATAN),
        Arguments.of("shaped swish", new TransformedActivation(StandardActivation.SWISH,
            ShapingParams.of(1.3, -0.4, 0.1, 0.9))));
  }

  private static double fivePoint(java.util.function.DoubleUnaryOperator f, double x, double h) {
    return (-f.applyAsDouble(x + 2 * h) + 8 * f.applyAsDouble(x + h)
        - 8 * f.applyAsDouble(x - h) + f.applyAsDouble(x - 2 * h)) / (12 * h);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("all")
  void qSlopeIsTheDerivativeOfQ(String name, Activation phi) {
    LocalMaps m = LocalMaps.of(phi);
    double fd = fivePoint(m::q, 1.0, 1e-3);
    assertEquals(fd, m.qSlope1(), 1e-8 * Math.max(1, Math.abs(fd)), name);
    assertEquals(m.q1(), m.q(1.0), 1e-14 * m.q1(), name + " Q(1) two ways");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("all")
  void cSlopeAtZeroIsTheDerivativeOfC(String name, Activation phi) {
    LocalMaps m = LocalMaps.of(phi);
    double fd = fivePoint(m::c, 0.0, 1e-2);
    assertEquals(fd, m.cSlope0(), 1e-7, name);
    assertEquals(m.c0(), m.c(0.0), 1e-13, name + " C(0) two ways");
  }

  /** One-sided fourth-order difference at c = 1 (C is smooth up to 1 for smooth phi). */
  @ParameterizedTest(name = "{0}")
  @MethodSource("smooth")
  void cSlopeAtOneIsTheOneSidedDerivativeOfC(String name, Activation phi) {
    LocalMaps m = LocalMaps.of(phi);
    double h = 1e-2;
    double fd = (25 * m.c(1) - 48 * m.c(1 - h) + 36 * m.c(1 - 2 * h) - 16 * m.c(1 - 3 * h)
        + 3 * m.c(1 - 4 * h)) / (12 * h);
    assertEquals(fd, m.cSlope1(), 1e-6 * Math.max(1, fd), name);
  }

  @Test
  void qAtZeroAndDomainChecks() {
    LocalMaps cos = LocalMaps.of(StandardActivation.COS);
    assertEquals(1.0, cos.q(0), 0.0);
    assertThrows(IllegalArgumentException.class, () -> cos.q(-0.1));
    assertThrows(IllegalArgumentException.class, () -> cos.c(1.0001));
    assertThrows(IllegalArgumentException.class, () -> cos.c(Double.NaN));
    assertEquals(1.0, cos.c(1.0), 0.0);
  }
}
