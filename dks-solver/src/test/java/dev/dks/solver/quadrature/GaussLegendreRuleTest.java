package dev.dks.solver.quadrature;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The n-point rule is exact for polynomials of degree up to 2n-1 and not beyond. */
class GaussLegendreRuleTest {
  /** integral of x^k over [-1, 1]. */
  private static double monomialIntegral(int k) {
    return k % 2 == 1 ? 0.0 : 2.0 / (k + 1);
  }

  private static double apply(GaussLegendreRule r, int k) {
    double s = 0;
    for (int i = 0; i < r.size(); i++) {
      s += r.weight(i) * Math.pow(r.node(i), k);
    }
    return s;
  }

  @ParameterizedTest(name = "n = {0}")
  @ValueSource(ints = {1, 2, 3, 4, 5, 7, 12, 20, 40, 64})
  void exactForMonomialsUpToDegree2nMinus1(int n) {
    GaussLegendreRule r = GaussLegendreRule.of(n);
    assertEquals(n, r.size());
    for (int k = 0; k <= 2 * n - 1; k++) {
      assertEquals(monomialIntegral(k), apply(r, k), 2e-15 * Math.max(1, n / 8.0),
          "n=" + n + " x^" + k);
    }
  }

  @ParameterizedTest(name = "n = {0}")
  @ValueSource(ints = {1, 2, 3, 5, 8})
  void notExactAtDegree2n(int n) {
    GaussLegendreRule r = GaussLegendreRule.of(n);
    // the error of the n-point rule on x^{2n} is 2^{2n+1}(n!)^4 / ((2n+1)((2n)!)^3) > 0
    double err = monomialIntegral(2 * n) - apply(r, 2 * n);
    double nf = 1;
    double n2f = 1;
    for (int i = 1; i <= n; i++) {
      nf *= i;
    }
    for (int i = 1; i <= 2 * n; i++) {
      n2f *= i;
    }
    double expected = Math.pow(2, 2 * n + 1) * Math.pow(nf, 4) / ((2 * n + 1) * Math.pow(n2f, 3))
        * n2f;
    assertEquals(expected, err, 1e-12 * expected + 1e-15, "n=" + n);
  }

  @ParameterizedTest(name = "n = {0}")
  @ValueSource(ints = {1, 2, 9, 12, 33, 100, 400})
  void weightsSumToTwoAndNodesAreSymmetricAscendingInside(int n) {
    GaussLegendreRule r = GaussLegendreRule.of(n);
    double sum = 0;
    for (int i = 0; i < n; i++) {
      sum += r.weight(i);
      assertTrue(r.weight(i) > 0);
      assertTrue(r.node(i) > -1 && r.node(i) < 1);
      if (i > 0) {
        assertTrue(r.node(i) > r.node(i - 1), "ascending");
      }
      assertEquals(-r.node(n - 1 - i), r.node(i), 0.0, "symmetric nodes");
      assertEquals(r.weight(n - 1 - i), r.weight(i), 0.0, "symmetric weights");
    }
    assertEquals(2.0, sum, 1e-14);
  }

  @ParameterizedTest(name = "n = {0}")
  @ValueSource(ints = {2, 3, 4})
  void smallRulesHaveTheirClosedForms(int n) {
    GaussLegendreRule r = GaussLegendreRule.of(n);
    switch (n) {
      case 2 -> {
        assertEquals(1 / Math.sqrt(3), r.node(1), 2e-16);
        assertEquals(1.0, r.weight(0), 1e-15);
      }
      case 3 -> {
        assertEquals(0.0, r.node(1), 0.0);
        assertEquals(Math.sqrt(0.6), r.node(2), 1e-16);
        assertEquals(8.0 / 9, r.weight(1), 1e-15);
        assertEquals(5.0 / 9, r.weight(0), 1e-15);
      }
      default -> {
        double x = Math.sqrt(3.0 / 7 + 2.0 / 7 * Math.sqrt(6.0 / 5));
        assertEquals(x, r.node(3), 1e-15);
        assertEquals((18 - Math.sqrt(30)) / 36, r.weight(3), 1e-15);
      }
    }
  }

  @org.junit.jupiter.api.Test
  void cachedAndValidated() {
    assertSame(GaussLegendreRule.of(17), GaussLegendreRule.of(17));
    assertThrows(IllegalArgumentException.class, () -> GaussLegendreRule.of(0));
  }
}
