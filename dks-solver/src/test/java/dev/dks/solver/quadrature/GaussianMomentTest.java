package dev.dks.solver.quadrature;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Closed-form normal moments: E[z^{2k}] = (2k-1)!!, E[exp(t z)] = exp(t^2/2), odd moments 0. */
class GaussianMomentTest {
  private final GaussianQuadrature q = GaussianQuadrature.standard();

  @ParameterizedTest(name = "k = {0}")
  @ValueSource(ints = {0, 1, 2, 3, 4, 5, 6, 7, 8})
  void evenMomentsAreDoubleFactorials(int k) {
    double expected = 1;
    for (int j = 2 * k - 1; j > 1; j -= 2) {
      expected *= j;
    }
    double got = q.mean(z -> Math.pow(z, 2 * k));
    assertEquals(expected, got, 1e-13 * expected, "E[z^" + (2 * k) + "]");
  }

  @Test
  void oddMomentsVanish() {
    for (int k = 1; k <= 15; k += 2) {
      final int p = k;
      double even = 1; // E[z^{k+1}] = k!! sets the scale of the cancelling terms
      for (int j = k; j > 1; j -= 2) {
        even *= j;
      }
      assertEquals(0.0, q.mean(z -> Math.pow(z, p)), 1e-15 * even, "E[z^" + k + "]");
    }
  }

  @ParameterizedTest(name = "t = {0}")
  @ValueSource(doubles = {-2.5, -1, 0.5, 1, 2, 3})
  void momentGeneratingFunction(double t) {
    assertEquals(Math.exp(t * t / 2), q.mean(z -> Math.exp(t * z)), 1e-13 * Math.exp(t * t / 2));
  }

  @Test
  void nodeWeightsCarryTheDensity() {
    GaussianNodes n = q.nodes(new double[0], 1.0);
    double s = 0;
    for (int i = 0; i < n.size(); i++) {
      s += n.w()[i];
      if (i > 0) {
        org.junit.jupiter.api.Assertions.assertTrue(n.x()[i] > n.x()[i - 1]);
      }
    }
    assertEquals(1.0, s, 1e-15);
  }

  @Test
  void nonDefaultRuleAgrees() {
    GaussianQuadrature fine = new GaussianQuadrature(30, 0.5, 13);
    assertEquals(105.0, fine.mean(z -> Math.pow(z, 8)), 1e-12);
    assertEquals(Math.exp(-0.5 * 0.49), fine.mean(z -> Math.cos(0.7 * z)), 1e-15);
  }

  @Test
  void invalidConstructionIsRejected() {
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> new GaussianQuadrature(12, 0, 12));
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> new GaussianQuadrature(12, 1, -1));
  }
}
