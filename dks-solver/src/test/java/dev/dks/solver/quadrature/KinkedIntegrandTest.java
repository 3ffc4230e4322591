package dev.dks.solver.quadrature;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Piecewise smooth integrands with the kink given as a breakpoint integrate to ~1e-14 (closed
 * forms with the normal density and tail computed here, from Math.erf-free identities).
 */
class KinkedIntegrandTest {
  private final GaussianQuadrature q = GaussianQuadrature.standard();

  private static double pdf(double x) {
    return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
  }

  /** 1 - Phi(a) for published a: A&S 26.2 / mpmath, rounded to double. */
  private static double upperTail(double a) {
    if (a == 0.3) {
      return 1 - 0.6179114221889527;
    }
    if (a == 0.7) {
      return 1 - 0.758036347776927;
    }
    throw new IllegalArgumentException();
  }

  @Test
  void reluMeanIsOneOverSqrtTwoPi() {
    assertEquals(1 / Math.sqrt(2 * Math.PI), q.mean(z -> Math.max(z, 0), new double[] {0}, 1),
        1e-15);
    // without telling the rule: the kink at 0 is a panel boundary anyway
    assertEquals(1 / Math.sqrt(2 * Math.PI), q.mean(z -> Math.max(z, 0)), 1e-15);
  }

  @Test
  void shiftedReluWithBreakpoint() {
    double a = 0.7;
    double expected = pdf(a) - a * upperTail(a);
    assertEquals(expected, q.mean(z -> Math.max(z - a, 0), new double[] {a}, 1), 1e-14);
  }

  @Test
  void stepWithBreakpoint() {
    double a = 0.3;
    assertEquals(upperTail(a), q.mean(z -> z >= a ? 1.0 : 0.0, new double[] {a}, 1), 1e-14);
  }

  @Test
  void breakpointsAreNeededForAccuracy() {
    // without the breakpoint the same rule is visibly worse: the kink handling matters
    double a = 0.3;
    double without = q.mean(z -> z >= a ? 1.0 : 0.0);
    org.junit.jupiter.api.Assertions.assertTrue(Math.abs(without - upperTail(a)) > 1e-6);
  }

  @Test
  void severalBreakpointsInAnyOrderAndOutsideOnesIgnored() {
    // E[|z - 0.3| + |z + 1.1|] with kinks given unsorted, plus points outside [-12, 12]
    double e1 = 2 * (pdf(0.3) - 0.3 * upperTail(0.3)) + 0.3; // E|z - a| = 2(phi(a) - a(1-Phi(a))) + a
    double e2 = absMean(-1.1);
    double got = q.mean(z -> Math.abs(z - 0.3) + Math.abs(z + 1.1),
        new double[] {0.3, 50, -1.1, -40, 0.3}, 1);
    assertEquals(e1 + e2, got, 1e-14);
  }

  /** E|z - a| computed independently with the Boole rule split at a. */
  private static double absMean(double a) {
    return IndependentGaussian.mean(z -> Math.abs(z - a), new double[] {a}, 1e-3);
  }

  @ParameterizedTest(name = "a = {0}")
  @ValueSource(doubles = {0.5, 3, 10})
  void oscillatoryIntegrandWithScale(double a) {
    assertEquals(Math.exp(-a * a / 2), q.mean(z -> Math.cos(a * z), new double[0], a), 1e-14);
  }

  @ParameterizedTest(name = "a = {0}")
  @ValueSource(doubles = {10, 30})
  void scaleIsWhatResolvesOscillations(double a) {
    double wrong = q.mean(z -> Math.cos(a * z), new double[0], 1.0);
    double right = q.mean(z -> Math.cos(a * z), new double[0], a);
    assertEquals(Math.exp(-a * a / 2), right, 1e-14);
    if (a >= 30) {
      org.junit.jupiter.api.Assertions.assertTrue(Math.abs(wrong - right) > 1e-8,
          "the scale argument changes the rule");
    }
  }

  @Test
  void independentRuleAgreesOnSmoothAndKinked() {
    // cross-check of the test helper itself against closed forms
    assertEquals(3.0, IndependentGaussian.mean(z -> z * z * z * z, new double[0], 1e-2), 1e-13);
    assertEquals(1 / Math.sqrt(2 * Math.PI),
        IndependentGaussian.mean(z -> Math.max(z, 0), new double[] {0}, 1e-3), 1e-14);
    assertEquals(Math.exp(-0.5), IndependentGaussian.trapezoidMean(Math::cos, 0.05, 14), 1e-15);
  }
}
