package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SolveJsonTest {

  /** The TReLU constants published with kfac-jax (exact doubles). */
  @ParameterizedTest
  @CsvSource({
    "50, 0.4259071946144104, 1.301119175166785",
    "101, 0.5704395323991776, 1.2284042441106242",
    "152, 0.6386479139328003, 1.1918827706862754"
  })
  void tatLeakyReluResNetMatchesPublishedConstants(int depth, double slope, double scale) {
    JsonNode j = Cli.json("solve", "--method", "TAT", "--activation", "leaky_relu",
        "--resnet", Integer.toString(depth));
    JsonNode p = j.get("params");
    assertEquals(slope, p.get("negative_slope").doubleValue());
    assertEquals(scale, p.get("output_scale").doubleValue());
    for (String identity : new String[] {"input_scale", "input_shift", "output_shift"}) {
      assertFalse(p.has(identity), identity);
    }
    assertEquals(p, j.get("activations").get(0).get("params"));
    assertEquals("resnet", j.get("network").get("kind").asText());
    assertEquals("v2", j.get("network").get("version").asText());
    assertEquals(0.9, j.get("maps").get("network").get("c0").doubleValue(), 1e-8);
    assertFalse(j.get("maps").has("c_curvature_1"), "infinite C''(1) must be omitted");
  }

  /**
   * One layer: xi = zeta, and the DKS leaky ReLU has a closed form in xi. The solver's xi comes
   * from the reference's bisection (tolerance 1e-8 on the network slope), so the closed form is
   * checked tightly at the reported xi and to 1e-8 at xi = 1.5.
   */
  @Test
  void dksLeakyReluOneLayerMatchesClosedForm() {
    JsonNode j = Cli.json("solve", "--method", "DKS", "--activation", "leaky_relu", "--depth", "1");
    double xi = j.get("local_target").doubleValue();
    assertEquals(1.5, xi, 1e-8);
    JsonNode p = j.get("params");
    for (double[] tolAndXi : new double[][] {{1e-9, xi}, {1e-8, 1.5}}) {
      double k = Math.PI * (1 - 1 / tolAndXi[1]);
      double s = (1 - Math.sqrt(1 - (1 - k) * (1 - k))) / (1 - k);
      double tol = tolAndXi[0];
      assertEquals(s, p.get("negative_slope").doubleValue(), tol);
      assertEquals(1 / Math.sqrt((1 + s * s) / 2 - (1 - s) * (1 - s) / (2 * Math.PI)),
          p.get("output_scale").doubleValue(), tol);
      assertEquals(-(1 - s) / Math.sqrt(2 * Math.PI), p.get("output_shift").doubleValue(), tol);
    }
    assertEquals(-0.02361, p.get("negative_slope").doubleValue(), 1e-5);
  }

  @Test
  void dksTanhChainMeetsTheTargets() {
    JsonNode j = Cli.json("solve", "--method", "DKS", "--activation", "tanh", "--depth", "10");
    JsonNode m = j.get("maps");
    assertEquals(Math.pow(1.5, 0.1), m.get("c_slope_1").doubleValue(), 1e-9);
    assertEquals(1.0, m.get("q1").doubleValue(), 1e-12);
    assertTrue(Math.abs(m.get("c0").doubleValue()) < 1e-12);
    assertEquals(1.5, m.get("network").get("c_slope_1").doubleValue(), 1e-8);
    assertEquals("chain", j.get("network").get("kind").asText());
    assertEquals(1.5, j.get("targets").get("zeta").doubleValue());
  }

  @Test
  void severalActivationsAreListedWithoutTopLevelParams() {
    JsonNode j = Cli.json("solve", "--method", "DKS", "--activation", "tanh,softplus",
        "--activation", "elu", "--depth", "20");
    assertEquals(3, j.get("activations").size());
    assertEquals("softplus", j.get("activations").get(1).get("name").asText());
    assertFalse(j.has("params"));
    assertFalse(j.has("maps"));
  }
}
