package dev.dks.solver.maps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.activation.ComposedActivation;
import dev.dks.solver.activation.ShapingParams;
import dev.dks.solver.activation.Smoothness;
import dev.dks.solver.activation.TransformedActivation;
import org.junit.jupiter.api.Test;

/**
 * LocalMaps.c near c = 0 takes Mehler's Hermite series; checked against the nested rule
 * (cNested, the only path before) and ReLU's closed-form arc-cosine map, and by counting the
 * activation's evaluations (the coefficients are computed once per LocalMaps; the nested rule
 * costs the square of the nodes per value).
 */
class CMapSeriesTest {
  private static final double[] CS = {0.0, 2.8e-30, 1e-6, 1e-3, -0.02, 0.1, -0.2, 0.25};

  /** A steep shaped softplus composed with itself through a sign, as a depthwise pair is. */
  private static Activation steepPair(double sign) {
    Activation sp = new TransformedActivation(Activations.byName("softplus"),
        ShapingParams.of(3.5, -0.4, -1.1, 1.7));
    return new ComposedActivation(sp, sign, sp);
  }

  @Test
  void seriesMatchesTheNestedRuleForSmoothActivations() {
    Activation[] acts = {Activations.byName("tanh"), Activations.byName("softplus"),
        steepPair(1.0), steepPair(-1.0),
        new TransformedActivation(Activations.byName("swish"), ShapingParams.of(1.3, 0.2, 0.1, 2))};
    for (Activation a : acts) {
      LocalMaps m = LocalMaps.of(a);
      for (double c : CS) {
        double nested = m.cNested(c);
        double series = m.c(c);
        // both near the sum's rounding; the nested rule's relative to C(c) when C is small
        assertEquals(nested, series, 1e-12 * Math.abs(nested) + 1e-15, a.id() + " c = " + c);
      }
    }
  }

  @Test
  void seriesMatchesReluClosedForm() {
    LocalMaps m = LocalMaps.of(Activations.byName("relu"));
    for (double c : CS) {
      double exact = (Math.sqrt(1 - c * c) + (Math.PI - Math.acos(c)) * c) / Math.PI;
      assertEquals(exact, m.c(c), 1e-9, "c = " + c);
    }
  }

  @Test
  void outsideTheSeriesRangeTheNestedRuleIsUsed() {
    LocalMaps m = LocalMaps.of(Activations.byName("tanh"));
    for (double c : new double[] {0.5, -0.9, 0.99}) {
      assertEquals(m.cNested(c), m.c(c), 0.0, "c = " + c);
    }
  }

  @Test
  void coefficientsAreComputedOncePerMaps() {
    long[] count = {0};
    Activation base = steepPair(1.0);
    Activation counting = new Activation() {
      public String id() {
        return "counting";
      }

      public double value(double x) {
        count[0]++;
        return base.value(x);
      }

      public double derivative(double x) {
        return base.derivative(x);
      }

      public double secondDerivative(double x) {
        return base.secondDerivative(x);
      }

      public double[] kinks() {
        return base.kinks();
      }

      public Smoothness smoothness() {
        return base.smoothness();
      }

      public double inputScaleMagnitude() {
        return base.inputScaleMagnitude();
      }
    };
    LocalMaps m = LocalMaps.of(counting);
    m.q1();
    long start = count[0];
    m.c(1e-3);
    long first = count[0] - start;
    for (double c : CS) {
      m.c(c);
    }
    assertEquals(first, count[0] - start, "later values reuse the coefficients");
    long before = count[0];
    m.cNested(1e-3);
    long nested = count[0] - before;
    // the series: one evaluation per node; the nested rule: about nodes^2 + nodes
    assertTrue(nested > 100 * first, "nested " + nested + " series " + first);
  }
}
