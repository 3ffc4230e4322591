package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Models built with DKS erf, atan and asinh (each written as one TensorFlow op: Erf, Atan, Asinh)
 * verify with no flags: the analysis sees all 8 of their activation layers (the build's depth;
 * before, it found none, called the network linear and the check failed with c errors of
 * 0.08-0.09). Negative control: the erf model checked against another zeta's prediction fails.
 *
 * <p>DKS sin and bentid too: Sin is an activation only where the model declares it (the build
 * records its Sin nodes as sites in the shaping record, which verify reads), bentid is matched
 * by its form. Before, both were analysed as linear networks (no sites, depth 0). Negative
 * control: the sin model without its record's sites (record removed, flags given) has no
 * activation layer: depth 0, and the
 * check fails (c 0.405 measured where the identity's 0.5 is predicted).
 */
class VerifyOneOpActivationsTest {
  private static final int DEPTH = 8;

  @TempDir Path tmp;

  private Path build(String activation) {
    Path out = tmp.resolve(activation);
    Cli r = Cli.run("build", "--arch", "mlp", "--depth", String.valueOf(DEPTH), "--width", "64",
        "--shaped", "--method", "DKS", "--activation", activation, "--out", out.toString());
    assertEquals(0, r.code(), r.err());
    return out;
  }

  @Test
  void oneOpActivationsAreSeenAndVerify() throws IOException {
    Path erf = null;
    for (String activation : new String[] {"erf", "atan", "asinh"}) {
      Path m = build(activation);
      erf = erf == null ? m : erf;
      JsonNode j = VerifyNoFlagsTest.verify(m, 0);
      assertTrue(j.get("passed").asBoolean(), j.toString());
      assertEquals(DEPTH, j.get("structure_depth").asInt(), activation + ": " + j);
    }
    JsonNode wrong = VerifyNoFlagsTest.verify(erf, VerifyCommand.CHECK_FAILED, "--zeta", "3");
    assertTrue(wrong.get("reason").asText().contains("measured c"), wrong.toString());
  }

  @Test
  void declaredSinAndBentIdentityAreSeenAndVerify() throws IOException {
    Path sin = null;
    for (String activation : new String[] {"sin", "bentid"}) {
      Path m = build(activation);
      sin = sin == null ? m : sin;
      JsonNode j = VerifyNoFlagsTest.verify(m, 0);
      assertTrue(j.get("passed").asBoolean(), j.toString());
      assertEquals(DEPTH, j.get("structure_depth").asInt(), activation + ": " + j);
    }
    // dks inspect reads the same declared sites
    JsonNode inspected = Cli.json("inspect", sin.toString());
    assertEquals(DEPTH, inspected.get("structure_depth").asInt(), inspected.toString());
    Files.delete(sin.resolve("assets.extra").resolve("dks-shaping.json"));
    assertEquals(0, Cli.json("inspect", sin.toString()).get("structure_depth").asInt(),
        "negative control: without the record the Sin model has no activation");
    JsonNode linear = VerifyNoFlagsTest.verify(sin, VerifyCommand.CHECK_FAILED, "--method", "DKS",
        "--activation", "sin");
    assertEquals(0, linear.get("structure_depth").asInt(), linear.toString());
  }
}
