package dev.dks.solver.maps;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dks.solver.activation.LeakyRelu;
import dev.dks.solver.activation.ShapingParams;
import dev.dks.solver.activation.TransformedActivation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The TReLU closed form against (a) an independent derivation from the arc-cosine kernel, writing
 * LReLU_s(x) = s x + (1-s) relu(x), and (b) nested quadrature of sqrt(2/(1+s^2)) LReLU_s.
 */
class LeakyReluCMapTest {
  private static final double[] CS = {-1, -0.75, -0.3, 0, 0.2, 0.55, 0.9, 0.999};

  /** E[LReLU(u)LReLU(v)] = s^2 c + s(1-s) c + (1-s)^2 (sqrt(1-c^2) + (pi - acos c) c)/(2 pi). */
  static double derived(double s, double c) {
    double relu = (Math.sqrt(1 - c * c) + (Math.PI - Math.acos(c)) * c) / (2 * Math.PI);
    double raw = s * s * c + s * (1 - s) * c + (1 - s) * (1 - s) * relu;
    return raw / ((1 + s * s) / 2);
  }

  @ParameterizedTest(name = "s = {0}")
  @ValueSource(doubles = {0, 0.01, 0.2, 0.4259071946144104, 0.7, 1, -0.3})
  void closedFormMatchesArcCosineDerivation(double s) {
    LeakyReluCMap m = new LeakyReluCMap(s);
    for (double c : CS) {
      assertEquals(derived(s, c), m.apply(c), 1e-15, "s=" + s + " c=" + c);
    }
    assertEquals((1 - s) * (1 - s) / (Math.PI * (1 + s * s)), m.k(), 1e-16);
    assertEquals(m.k(), m.apply(0), 1e-16);
    assertEquals(-2 * s / (1 + s * s), m.apply(-1), 1e-15);
    assertEquals(1.0, m.apply(1), 0.0);
    assertEquals(s, m.negativeSlope(), 0.0);
  }

  @ParameterizedTest(name = "s = {0}")
  @ValueSource(doubles = {0, 0.2, 0.5, -0.3})
  void closedFormMatchesNestedQuadrature(double s) {
    LeakyReluCMap m = new LeakyReluCMap(s);
    TransformedActivation phi = new TransformedActivation(new LeakyRelu(s),
        new ShapingParams(1, 0, 0, m.outputScale(), java.util.OptionalDouble.of(s)));
    LocalMaps maps = LocalMaps.of(phi);
    assertEquals(1.0, maps.q1(), 1e-14);
    assertEquals(1.0, maps.qSlope1(), 1e-14);
    assertEquals(1.0, maps.cSlope1(), 1e-14);
    for (double c : new double[] {-1, -0.6, -0.1, 0, 0.3, 0.8}) {
      assertEquals(m.apply(c), maps.c(c), 1e-10, "s=" + s + " c=" + c);
    }
    assertEquals(m.k(), maps.c0(), 1e-14);
    assertEquals(m.slope(0), maps.cSlope0(), 1e-14);
  }

  @ParameterizedTest(name = "s = {0}")
  @ValueSource(doubles = {0, 0.3, 0.8})
  void slopeIsTheDerivative(double s) {
    LeakyReluCMap m = new LeakyReluCMap(s);
    double h = 1e-4;
    for (double c : new double[] {-0.9, -0.4, 0, 0.5, 0.9}) {
      double fd = (m.apply(c + h) - m.apply(c - h)) / (2 * h);
      assertEquals(fd, m.slope(c), 1e-7, "c=" + c);
    }
    assertEquals(1.0, m.slope(1), 0.0);
    assertEquals(1 - m.k() * Math.PI / 2, m.slope(0), 1e-15);
  }

  @Test
  void argumentsAreClampedAndScaleNormalizes() {
    LeakyReluCMap m = new LeakyReluCMap(0.3);
    assertEquals(1.0, m.apply(1 + 1e-12), 0.0);
    assertEquals(m.apply(-1), m.apply(-1 - 1e-12), 0.0);
    // E[LReLU_s(z)^2] = (1 + s^2)/2 -> output scale sqrt(2/(1+s^2))
    assertEquals(Math.sqrt(2 / 1.09), m.outputScale(), 1e-15);
  }
}
