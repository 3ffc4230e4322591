package dev.dks.solver.maps;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.LeakyRelu;
import dev.dks.solver.activation.ShapingParams;
import dev.dks.solver.activation.StandardActivation;
import dev.dks.solver.activation.TransformedActivation;
import dev.dks.solver.quadrature.IndependentGaussian;
import java.util.OptionalDouble;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every moment against the independent Boole rule split at the (transformed) kinks. */
class GaussianMomentsTest {
  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of("shaped tanh", new TransformedActivation(StandardActivation.TANH,
            ShapingParams.of(0.3, 0.65, -0.54, 4.96))),
        Arguments.of("shaped elu (kink at -0.7/1.9)", new TransformedActivation(
            StandardActivation.ELU, ShapingParams.of(1.9, 0.7, 0.2, 1.1))),
        Arguments.of("shifted relu (kink at 0.0589)", new TransformedActivation(
            StandardActivation.RELU, ShapingParams.of(16.98, -1, -6.29, 0.104))),
        Arguments.of("negative-scale selu", new TransformedActivation(StandardActivation.SELU,
            ShapingParams.of(-0.31, -0.61, 0.76, 3.27))),
        Arguments.of("leaky with shift", new TransformedActivation(new LeakyRelu(0.01),
            new ShapingParams(1, 0.16, -0.4, 1.7, OptionalDouble.of(-0.2)))),
        Arguments.of("near-constant sigmoid", new TransformedActivation(
            StandardActivation.SIGMOID, ShapingParams.of(1e-3, 2, 0, 1))),
        Arguments.of("fast sin", new TransformedActivation(StandardActivation.SIN,
            ShapingParams.of(7, 0.3, 0, 1))));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void momentsAgreeWithSecondQuadrature(String label, Activation phi) {
    double h = 2e-3 / Math.max(1, phi.inputScaleMagnitude());
    double[] r = IndependentGaussian.means((x, o) -> {
      double v = phi.value(x);
      double d = phi.derivative(x);
      double dd = phi.secondDerivative(x);
      o[0] = v;
      o[1] = v * v;
      o[2] = v * d * x;
      o[3] = d;
      o[4] = d * d;
      o[5] = dd * dd;
    }, 6, phi.kinks(), h);
    double m = r[0];
    double[] c = IndependentGaussian.means((x, o) -> {
      double v = phi.value(x) - m;
      o[0] = v * v;
      o[1] = v * phi.derivative(x) * x;
    }, 2, phi.kinks(), h);
    GaussianMoments g = GaussianMoments.of(phi);
    double scale = Math.max(1, r[1]);
    assertEquals(r[0], g.mean(), 1e-12 * scale, label + " mean");
    assertEquals(r[1], g.meanSquare(), 1e-12 * scale, label + " meanSquare");
    assertEquals(c[0], g.variance(), 1e-12 * scale, label + " variance");
    assertEquals(r[2], g.qSlopeMoment(), 1e-12 * scale, label + " qSlope");
    assertEquals(c[1], g.centeredQSlopeMoment(), 1e-12 * scale, label + " centered qSlope");
    assertEquals(r[3], g.meanDerivative(), 1e-12 * Math.max(1, Math.abs(r[3])), label + " E phi'");
    assertEquals(r[4], g.meanSquareDerivative(), 1e-12 * Math.max(1, r[4]), label + " E phi'^2");
    assertEquals(r[5], g.meanSquareSecondDerivative(), 1e-11 * Math.max(1, r[5]),
        label + " E phi''^2");
  }
}
