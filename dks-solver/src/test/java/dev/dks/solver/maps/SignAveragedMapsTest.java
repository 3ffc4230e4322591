package dev.dks.solver.maps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.LeakyRelu;
import dev.dks.solver.activation.ShapingParams;
import dev.dks.solver.activation.StandardActivation;
import dev.dks.solver.activation.TransformedActivation;
import java.util.List;
import java.util.OptionalDouble;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The maps of activation chains joined by random per-channel signs (Delta depthwise layers),
 * against a closed form for TAT's leaky ReLU (derived by hand in {@link SignAveragedMaps}) and a
 * Monte Carlo simulation of the channels for smooth DKS-like activations. Negative control: for
 * the leaky ReLU pair, the composition of the two layers' own C maps (the Gaussian assumption) is
 * far off.
 */
class SignAveragedMapsTest {
  private static final double A = 0.3511212468147278; // MobileNetV2's TAT slope (eta 0.9)

  private static Activation tatLeakyRelu(double a) {
    double gamma = Math.sqrt(2 / (1 + a * a));
    return new TransformedActivation(new LeakyRelu(a),
        new ShapingParams(1, 0, 0, gamma, OptionalDouble.of(a)));
  }

  private static double closedForm(double a, double c) {
    double k = (1 - a * a) * (1 - a * a) / (Math.PI * (1 + a * a) * (1 + a * a));
    return c + k * (Math.sqrt(1 - c * c) - c * Math.acos(c));
  }

  @Test
  void leakyReluPairHasTheClosedForm() {
    Activation f = tatLeakyRelu(A);
    SignAveragedMaps m = SignAveragedMaps.of(List.of(f, f));
    assertEquals(1.0, m.q1(), 1e-9);
    for (double c : new double[] {-0.9, -0.3, 0.0, 0.25, 0.5, 0.9, 0.99}) {
      assertEquals(closedForm(A, c), m.c(c), 1e-7, "c = " + c);
    }
    // the Gaussian composition predicts 0.218 at c = 0; the chain gives 0.194
    LocalMaps one = LocalMaps.of(f);
    double composed = one.c(one.c(0.0));
    assertTrue(composed - m.c(0.0) > 0.02, composed + " vs " + m.c(0.0));
  }

  @Test
  void smoothChainsAgreeWithSimulatedChannels() {
    Activation softplus = new TransformedActivation(StandardActivation.SOFTPLUS,
        ShapingParams.of(0.9, 0.2, -0.7, 1.4));
    Activation tanh = new TransformedActivation(StandardActivation.TANH,
        ShapingParams.of(0.6, 0.1, 0.0, 1.9));
    check(List.of(softplus, softplus), 0.3, 21L);
    check(List.of(tanh, softplus), -0.4, 22L);
    check(List.of(softplus, tanh, softplus), 0.6, 23L);
  }

  /** Channels simulated with independent random signs: sums of products over channels. */
  private static void check(List<Activation> chain, double c, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    int n = 2_000_000;
    double s = Math.sqrt(1 - c * c);
    double xy = 0;
    double xx = 0;
    double yy = 0;
    for (int i = 0; i < n; i++) {
      double u = rng.nextGaussian();
      double v = c * u + s * rng.nextGaussian();
      double x = chain.get(0).value(u);
      double y = chain.get(0).value(v);
      for (int l = 1; l < chain.size(); l++) {
        double sign = rng.nextBoolean() ? 1 : -1;
        x = chain.get(l).value(sign * x);
        y = chain.get(l).value(sign * y);
      }
      xy += x * y;
      xx += x * x;
      yy += y * y;
    }
    SignAveragedMaps m = SignAveragedMaps.of(chain);
    double q = 0.5 * (xx + yy) / n;
    assertEquals(q, m.q1(), 0.01 * q, chain + " q");
    assertEquals(xy / Math.sqrt(xx * yy), m.c(c), 4e-3, chain + " c at " + c);
  }
}
