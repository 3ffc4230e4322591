package dev.dks.solver.activation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** asinh identities: inverse of sinh, oddness, log form, series near 0, asymptote at infinity. */
class AsinhTest {
  @Test
  void inverseOfSinh() {
    for (double y = -20; y <= 20; y += 0.173) {
      assertEquals(y, SpecialFunctions.asinh(Math.sinh(y)), 4e-15 * Math.max(1, Math.abs(y)),
          "asinh(sinh(" + y + "))");
    }
    for (double x = -50; x <= 50; x += 0.731) {
      assertEquals(x, Math.sinh(SpecialFunctions.asinh(x)), 1e-15 * Math.max(1, Math.abs(x)),
          "sinh(asinh(" + x + "))");
    }
  }

  @Test
  void odd() {
    for (double x : new double[] {1e-300, 1e-8, 0.3, 1, 7, 1e5, 1e9, 1e200}) {
      assertEquals(-SpecialFunctions.asinh(x), SpecialFunctions.asinh(-x), 0.0, "x=" + x);
    }
    assertEquals(0.0, SpecialFunctions.asinh(0.0), 0.0);
  }

  @Test
  void logFormForModerateArguments() {
    for (double x = 1; x < 1e6; x *= 1.7) {
      assertEquals(Math.log(x + Math.sqrt(x * x + 1)), SpecialFunctions.asinh(x),
          4e-16 * Math.log(x + Math.sqrt(x * x + 1)), "x=" + x);
    }
  }

  @Test
  void taylorSeriesNearZero() {
    for (double x : new double[] {1e-300, 1e-20, 1e-8, 1e-4, 1e-3, -2e-3}) {
      double series = x - x * x * x / 6 + 3 * Math.pow(x, 5) / 40;
      assertEquals(series, SpecialFunctions.asinh(x), 4e-16 * Math.abs(x), "x=" + x);
    }
  }

  @Test
  void publishedValuesAndLargeArguments() {
    // mpmath values rounded to double
    assertEquals(0.48121182505960347, SpecialFunctions.asinh(0.5), 1e-16);
    assertEquals(1.8184464592320668, SpecialFunctions.asinh(3), 4e-16);
    assertEquals(19.11382792451231, SpecialFunctions.asinh(1e8), 4e-15);
    assertEquals(23.7189981105004, SpecialFunctions.asinh(1e10), 4e-15);
    assertEquals(691.4686750787737, SpecialFunctions.asinh(1e300), 2e-13);
    // continuity across the switch to log(2x) at 1e8
    assertEquals(SpecialFunctions.asinh(Math.nextDown(1e8)), SpecialFunctions.asinh(Math.nextUp(1e8)),
        1e-14);
  }
}
