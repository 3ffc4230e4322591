package dev.dks.solver.solve;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dks.solver.activation.Activations;
import dev.dks.solver.network.Architectures;
import dev.dks.solver.network.NetworkMaps;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * DKS for leaky ReLU in closed form (dks-math.md section 4.2): with beta = 0,
 * delta = -(1-s)/sqrt(2 pi), gamma = 1/sqrt((1+s^2)/2 - (1-s)^2/(2 pi)),
 * C'(1) = 1/(1 - (1-s)^2/(pi (1+s^2))), hence s = (1 - sqrt(1-(1-K)^2))/(1-K), K = pi(1 - 1/xi).
 */
class DksLeakyReluClosedFormTest {
  private static ShapingSolution solve(int depth) {
    return ShapingSolver.solve(Method.DKS, List.of(Activations.byName("leaky_relu")),
        NetworkMaps.of(Architectures.plainChain(depth)), DksTargets.ofZeta(1.5),
        TatTargets.defaults());
  }

  @ParameterizedTest(name = "plainChain({0})")
  @ValueSource(ints = {1, 5, 20})
  void closedForm(int depth) {
    ShapingSolution sol = solve(depth);
    double xi = sol.localTarget();
    assertEquals(Math.pow(1.5, 1.0 / depth), xi, 1e-8, "xi from the bisection");
    double k = Math.PI * (1 - 1 / xi);
    double s = (1 - Math.sqrt(1 - (1 - k) * (1 - k))) / (1 - k);
    double delta = -(1 - s) / Math.sqrt(2 * Math.PI);
    double gamma = 1 / Math.sqrt((1 + s * s) / 2 - (1 - s) * (1 - s) / (2 * Math.PI));
    var p = sol.get("leaky_relu").params();
    assertEquals(s, p.negativeSlope().orElseThrow(), 1e-9, "negative_slope");
    assertEquals(0.0, p.inputShift(), 1e-9, "input_shift");
    assertEquals(1.0, p.inputScale(), 0.0, "input_scale");
    assertEquals(delta, p.outputShift(), 1e-9, "output_shift");
    assertEquals(gamma, p.outputScale(), 1e-9, "output_scale");
    double cSlope = 1 / (1 - (1 - s) * (1 - s) / (Math.PI * (1 + s * s)));
    assertEquals(xi, cSlope, 1e-12, "closed-form C'(1) of the closed-form s");
    assertEquals(cSlope, sol.get("leaky_relu").local().cSlope1(), 1e-9);
  }

  @Test
  void oneLayerGivesTheReferencesNegativeSlope() {
    // reference output for a 1-layer net, zeta = 1.5: s = -0.02361, beta = 0
    var p = solve(1).get("leaky_relu").params();
    assertEquals(-0.02361, p.negativeSlope().orElseThrow(), 5e-6);
    assertEquals(0.0, p.inputShift(), 1e-9);
  }
}
