package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dks verify MODEL} with no flags passes on the shaped models the tool writes, read back
 * from their shaping record: a DKS ResNet-18 with normalized skips (shortcut weight 0.5) on a
 * single-channel input and no per-location normalization (pairs then enter at the first layer's
 * output), the same at shortcut weight 0.8 with DKS tanh (narrow and deep: the sequential draw
 * rule must add draws for it to pass reliably), a 6-layer DKS softplus CNN at 8x8, a 20-layer TAT leaky-ReLU MLP, and the demo's plain
 * net (a BN-ResNet-18 of width 4 rewritten by TAT, whose per-draw q spreads from 0.001 to 7).
 * Small widths keep it fast; the shapes and flags are those the issue found failing. Negative
 * control: the same ResNet checked against another zeta's prediction fails (exit 1).
 */
class VerifyNoFlagsTest {
  @TempDir Path tmp;

  private Path build(String name, String... flags) {
    Path out = tmp.resolve(name);
    String[] args = new String[flags.length + 3];
    args[0] = "build";
    System.arraycopy(flags, 0, args, 1, flags.length);
    args[flags.length + 1] = "--out";
    args[flags.length + 2] = out.toString();
    Cli r = Cli.run(args);
    assertEquals(0, r.code(), r.err());
    return out;
  }

  /** Runs {@code dks verify MODEL --json FLAGS}, asserts its exit code, returns its JSON. */
  static JsonNode verify(Path model, int expected, String... flags) throws IOException {
    String[] args = new String[flags.length + 3];
    args[0] = "verify";
    args[1] = model.toString();
    args[2] = "--json";
    System.arraycopy(flags, 0, args, 3, flags.length);
    Cli r = Cli.run(args);
    assertEquals(expected, r.code(), model.getFileName() + ": " + r.out() + r.err());
    return new ObjectMapper().readTree(r.out());
  }

  @Test
  void everyShapedModelPassesWithoutFlags() throws IOException {
    Path resnet = build("resnet18_w05", "--arch", "resnet", "--depth", "18", "--width", "16",
        "--shaped", "--shortcut-weight", "0.5");
    Path bn = build("bn_resnet", "--arch", "resnet", "--depth", "18", "--width", "4", "--bn");
    Path demo = tmp.resolve("demo_plain");
    Cli rw = Cli.run("rewrite", bn.toString(), "--method", "TAT", "--activation", "leaky_relu",
        "--shortcut-weight", "0", "--out", demo.toString());
    assertEquals(0, rw.code(), rw.err());
    // width 16, DKS tanh, shortcut weight 0.8: the width rule's 24 draws x 8 pairs left its
    // output c with a standard error of about 0.01 (c error 0.032 and 0.035 at --seed 1 and 2);
    // the sequential rule adds draws until it is under a quarter of the tolerance
    Path narrow = build("resnet18_w16_tanh_w08", "--arch", "resnet", "--depth", "18", "--width",
        "16", "--shaped", "--method", "DKS", "--activation", "tanh", "--shortcut-weight", "0.8",
        "--input", "8x8x1");
    JsonNode n = verify(narrow, 0);
    assertTrue(n.get("added_draws").asInt() > 0, n.get("draw_rule").toString());
    assertTrue(n.get("c_standard_error").asDouble() <= 0.25 * n.get("c_tolerance").asDouble(),
        n.get("c_standard_error").toString());
    List<Path> models = List.of(resnet,
        build("cnn6_softplus", "--arch", "plain-cnn", "--depth", "6", "--shaped", "--method",
            "DKS", "--activation", "softplus", "--input", "8x8x3"),
        build("mlp20_tat", "--arch", "mlp", "--depth", "20", "--width", "32", "--shaped",
            "--method", "TAT", "--activation", "leaky_relu"),
        demo);
    for (Path m : models) {
      JsonNode j = verify(m, 0);
      assertTrue(j.get("passed").asBoolean(), j.toString());
      assertEquals(1, j.get("outputs").size(), m.toString());
      JsonNode out = j.get("outputs").get(0);
      assertTrue(out.get("checked").asBoolean() && out.get("passed").asBoolean(), out.toString());
      assertEquals(j.get("judged_tensor").asText(), out.get("judged_tensor").asText());
    }
    // negative control: the ResNet's c measured against DKS's prediction for zeta 3
    JsonNode wrong = verify(resnet, VerifyCommand.CHECK_FAILED, "--zeta", "3");
    assertTrue(wrong.get("reason").asText().contains("measured c"), wrong.toString());
  }
}
