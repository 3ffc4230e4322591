package dev.dks.solver.maps;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.CustomActivation;
import dev.dks.solver.activation.ShapingParams;
import dev.dks.solver.activation.StandardActivation;
import dev.dks.solver.activation.TransformedActivation;
import dev.dks.solver.quadrature.IndependentGaussian;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Mehler / Hermite-series identities for smooth activations: with a_n = E[phi He_n]/sqrt(n!)
 * computed HERE by the trapezoid rule (step 0.01 on [-16, 16], spectrally accurate),
 * C(c) = sum a_n^2 c^n / sum a_n^2 and its derivatives at 0 and 1 follow term by term.
 */
class HermiteSeriesTest {
  private static final int N = 120;

  static Stream<Arguments> activations() {
    return Stream.of(
        Arguments.of("tanh", StandardActivation.TANH),
        Arguments.of("swish", StandardActivation.SWISH),
        Arguments.of("gelu_exact", StandardActivation.GELU_EXACT),
        Arguments.of("sin", StandardActivation.SIN),
        Arguments.of("shaped tanh", new TransformedActivation(StandardActivation.TANH,
            ShapingParams.of(0.8, 0.3, -0.1, 1.7))),
        // raw functions written here, so that phi itself is independent of the library
        Arguments.of("x*exp(-x^2/4) (custom)", CustomActivation.smooth("bump",
            x -> x * Math.exp(-x * x / 4),
            x -> (1 - x * x / 2) * Math.exp(-x * x / 4),
            x -> (x * x * x / 4 - 1.5 * x) * Math.exp(-x * x / 4))));
  }

  /** a_n for n = 0..N-1 with the normalized recurrence h_{n+1} = (x h_n - sqrt(n) h_{n-1}) / sqrt(n+1). */
  static double[] hermiteCoefficients(Activation phi) {
    double[] a = new double[N];
    double[] h = new double[N];
    double step = 0.01;
    double half = 16.0;
    int m = (int) Math.round(2 * half / step);
    for (int i = 1; i < m; i++) {
      double x = -half + i * step;
      double w = phi.value(x) * IndependentGaussian.density(x) * step;
      h[0] = 1;
      h[1] = x;
      for (int n = 1; n + 1 < N; n++) {
        h[n + 1] = (x * h[n] - Math.sqrt(n) * h[n - 1]) / Math.sqrt(n + 1);
      }
      for (int n = 0; n < N; n++) {
        a[n] += w * h[n];
      }
    }
    return a;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("activations")
  void kernelQuantitiesFollowFromTheHermiteSeries(String label, Activation phi) {
    double[] a = hermiteCoefficients(phi);
    double q = 0;
    double d1 = 0;
    double d2 = 0;
    for (int n = 0; n < N; n++) {
      double b = a[n] * a[n];
      q += b;
      d1 += n * b;
      d2 += (double) n * (n - 1) * b;
    }
    LocalMaps maps = LocalMaps.of(phi);
    assertEquals(q, maps.q1(), 1e-9 * q, label + " Q(1)");
    assertEquals(a[0] * a[0] / q, maps.c0(), 1e-9, label + " C(0)");
    assertEquals(a[1] * a[1] / q, maps.cSlope0(), 1e-9, label + " C'(0)");
    assertEquals(d1 / q, maps.cSlope1(), 1e-9 * Math.max(1, d1 / q), label + " C'(1)");
    assertEquals(d2 / q, maps.cCurvature1(), 1e-9 * Math.max(1, d2 / q), label + " C''(1)");
    assertEquals(a[0], maps.moments().mean(), 1e-10, label + " E[phi]");
    for (double c : new double[] {-0.95, -0.6, -0.25, 0.1, 0.45, 0.7, 0.9}) {
      double s = 0;
      double p = 1;
      for (int n = 0; n < N; n++) {
        s += a[n] * a[n] * p;
        p *= c;
      }
      assertEquals(s / q, maps.c(c), 1e-9, label + " C(" + c + ")");
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("activations")
  void qSlopeFollowsFromTheSeriesToo(String label, Activation phi) {
    // Q(q) = E[phi(sqrt(q) z)^2]; independent check: Q'(1) = E[phi phi' z] by the trapezoid rule
    double expected = IndependentGaussian.trapezoidMean(
        x -> phi.value(x) * phi.derivative(x) * x, 0.01, 16);
    assertEquals(expected, LocalMaps.of(phi).qSlope1(), 1e-10 * Math.max(1, Math.abs(expected)),
        label);
  }
}
