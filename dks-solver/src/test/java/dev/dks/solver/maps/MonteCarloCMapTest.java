package dev.dks.solver.maps;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.StandardActivation;
import dev.dks.solver.quadrature.IndependentGaussian;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Monte Carlo estimate of C(c) = E[phi(u) phi(v)] / Q(1) with 2,000,000 seeded samples; the
 * estimate must lie within 5 standard errors (estimated from the sample) of the quadrature value.
 */
class MonteCarloCMapTest {
  private static final int SAMPLES = 2_000_000;

  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of(StandardActivation.RELU, 0.4, 11L),
        Arguments.of(StandardActivation.TANH, 0.4, 12L),
        Arguments.of(StandardActivation.ELU, 0.4, 13L),
        Arguments.of(StandardActivation.ELU, -0.7, 14L));
  }

  @ParameterizedTest(name = "{0} c = {1}")
  @MethodSource("cases")
  void monteCarloAgrees(Activation phi, double c, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    double s = Math.sqrt(1 - c * c);
    double sum = 0;
    double sumSq = 0;
    for (int i = 0; i < SAMPLES; i++) {
      double z1 = rng.nextGaussian();
      double z2 = rng.nextGaussian();
      double p = phi.value(z1) * phi.value(c * z1 + s * z2);
      sum += p;
      sumSq += p * p;
    }
    double mean = sum / SAMPLES;
    double var = (sumSq - SAMPLES * mean * mean) / (SAMPLES - 1);
    double se = Math.sqrt(var / SAMPLES);
    // Q(1) from the independent Boole rule (split at phi's kinks)
    double q1 = IndependentGaussian.mean(x -> phi.value(x) * phi.value(x), phi.kinks(), 1e-3);
    double mc = mean / q1;
    double quad = LocalMaps.of(phi).c(c);
    assertTrue(Math.abs(mc - quad) < 5 * se / q1,
        phi.id() + ": MC " + mc + " +- " + se / q1 + " vs quadrature " + quad);
  }
}
