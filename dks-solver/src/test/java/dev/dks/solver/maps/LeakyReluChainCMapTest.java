package dev.dks.solver.maps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.LeakyRelu;
import dev.dks.solver.activation.ShapingParams;
import dev.dks.solver.activation.TransformedActivation;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The closed form of sign-joined TReLU chains against a second method: {@link SignAveragedMaps},
 * nested Gaussian quadrature of the composed activations (itself checked against Monte Carlo in
 * {@link SignAveragedMapsTest}) for 2 and 3 layers, Monte Carlo of the channels for 3 and 4; one
 * layer against {@link LeakyReluCMap}; the pair against the hand-derived {@code c + K (sqrt(1 -
 * c^2) - c arccos c)}.
 */
class LeakyReluChainCMapTest {
  private static Activation trelu(double a) {
    return new TransformedActivation(new LeakyRelu(a),
        new ShapingParams(1, 0, 0, Math.sqrt(2 / (1 + a * a)), OptionalDouble.of(a)));
  }

  @Test
  void oneLayerIsTheTReluMap() {
    for (double a : new double[] {0.0, 0.2, 0.7}) {
      LeakyReluCMap one = new LeakyReluCMap(a);
      LeakyReluChainCMap chain = new LeakyReluChainCMap(a, 1);
      for (double c : new double[] {-1, -0.5, 0, 0.3, 0.9, 1}) {
        assertEquals(one.apply(c), chain.apply(c), 1e-14, "a " + a + " c " + c);
      }
      assertEquals(1.0, chain.q1(), 1e-14);
    }
  }

  @Test
  void pairIsTheHandDerivedForm() {
    double a = 0.3511212468147278;
    double k = (1 - a * a) * (1 - a * a) / (Math.PI * (1 + a * a) * (1 + a * a));
    LeakyReluChainCMap pair = new LeakyReluChainCMap(a, 2);
    for (double c : new double[] {-0.9, 0, 0.5, 0.99}) {
      assertEquals(c + k * (Math.sqrt(1 - c * c) - c * Math.acos(c)), pair.apply(c), 1e-13);
    }
    assertEquals(1.0, pair.q1(), 1e-14);
  }

  @Test
  void chainsAgreeWithQuadratureOfTheComposedActivations() {
    for (double a : new double[] {0.0, 0.35}) {
      for (int n = 2; n <= 3; n++) {
        List<Activation> acts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          acts.add(trelu(a));
        }
        SignAveragedMaps quad = SignAveragedMaps.of(acts);
        LeakyReluChainCMap closed = new LeakyReluChainCMap(a, n);
        assertEquals(quad.q1(), closed.q1(), 1e-8, "a " + a + " n " + n);
        for (double c : new double[] {-0.7, 0.0, 0.6}) {
          assertEquals(quad.c(c), closed.apply(c), 1e-7, "a " + a + " n " + n + " c " + c);
        }
      }
    }
  }

  /** Three and four layers against simulated channels (a random sign per channel and link). */
  @Test
  void longerChainsAgreeWithSimulatedChannels() {
    double a = 0.2;
    double c = 0.3;
    Activation f = trelu(a);
    for (int n = 3; n <= 4; n++) {
      SplittableRandom rng = new SplittableRandom(41 + n);
      double xy = 0;
      double xx = 0;
      double yy = 0;
      for (int i = 0; i < 1_000_000; i++) {
        double u = rng.nextGaussian();
        double x = f.value(u);
        double y = f.value(c * u + Math.sqrt(1 - c * c) * rng.nextGaussian());
        for (int l = 1; l < n; l++) {
          double sign = rng.nextBoolean() ? 1 : -1;
          x = f.value(sign * x);
          y = f.value(sign * y);
        }
        xy += x * y;
        xx += x * x;
        yy += y * y;
      }
      // standard error of the ratio about 1e-3 at a million channels; the chain's C(0.3) is
      // about 0.17 above 0.3, the composition of the layers' maps another 0.03 above it
      LeakyReluChainCMap closed = new LeakyReluChainCMap(a, n);
      assertEquals(xy / Math.sqrt(xx * yy), closed.apply(c), 4e-3, "n " + n);
      assertEquals(closed.q1(), xx / 1_000_000, 1e-2, "n " + n);
    }
  }

  @Test
  void layerCountOutsideOneToSixteenIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> new LeakyReluChainCMap(0.1, 0));
    assertThrows(IllegalArgumentException.class, () -> new LeakyReluChainCMap(0.1, 17));
  }
}
