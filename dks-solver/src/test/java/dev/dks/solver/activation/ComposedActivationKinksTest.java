package dev.dks.solver.activation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dks.solver.maps.LocalMaps;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

/**
 * The kinks of {@code outer(sign * inner(x))}: the inner activation's, and where {@code sign *
 * inner} crosses an outer kink. Where the inner activation is flat exactly at an outer kink (ReLU
 * after ReLU: {@code relu(x) = 0} for all x &lt; 0) the composition is flat too, so no point of the
 * flat run is a kink; its ends are inner kinks (or the inner activation is smooth there with slope
 * 0, and the composition has no jump). Expected values are worked out by hand from the functions.
 */
class ComposedActivationKinksTest {
  private static final Activation RELU = Activations.byName("relu");

  @Test
  void flatInnerRunAtAnOuterKinkAddsNoKinks() {
    // relu(+relu(x)) = relu(x), relu(-relu(x)) = 0: the one kink is relu's own at 0
    assertArrayEquals(new double[] {0.0}, new ComposedActivation(RELU, 1, RELU).kinks(), 0.0);
    assertArrayEquals(new double[] {0.0}, new ComposedActivation(RELU, -1, RELU).kinks(), 0.0);
  }

  @Test
  void crossingsOffTheScanGridAreStillFound() {
    // control: tanh(x + 0.3) crosses relu's kink 0 at x = -0.3, between scan points
    Activation shifted = new TransformedActivation(Activations.byName("tanh"),
        new ShapingParams(1.0, 0.3, 0.0, 1.0, OptionalDouble.empty()));
    double[] k = new ComposedActivation(shifted, 1, RELU).kinks();
    assertEquals(1, k.length);
    assertEquals(-0.3, k[0], 1e-12);
    // a leaky ReLU inner (negative slope 0.2) is not flat: crosses 0 once, at its own kink
    assertArrayEquals(new double[] {0.0},
        new ComposedActivation(Activations.byName("leaky_relu"), -1, RELU).kinks(), 0.0);
  }

  @Test
  void flatCompositionHasTheInnerMaps() {
    // relu(+relu(z)) is relu(z): Q(1) = E[relu(z)^2] = 1/2 and C(0) of the arc-cosine kernel,
    // 1/pi (Cho and Saul 2009), for the normalized kernel
    LocalMaps m = LocalMaps.of(new ComposedActivation(RELU, 1, RELU));
    assertEquals(0.5, m.q1(), 1e-9);
    assertEquals(1 / Math.PI, m.c0(), 1e-7);
  }
}
