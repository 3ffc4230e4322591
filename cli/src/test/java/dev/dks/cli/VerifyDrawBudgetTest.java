package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dks verify} with no flags on a small net whose draws are cheap in time but not in FLOP:
 * a TAT MLP of width 64 and depth 6 on 64x64x3 inputs ({@code dks build --shaped}), whose first
 * dense layer is 12288 x 64. Its draws cost 0.56 GFLOP of rotations each, so the 20 GFLOP of the
 * old sequential budget stopped it at 22 draws and a weak pass (c standard error 0.0093
 * where the target is 0.0075); at 0.184 s of CPU a draw by the cost model (rotations at 5
 * GFLOP/s, 64 pairs' forward passes at 10 GFLOP/s, 10 ms besides) the 15 s budget allows 82,
 * and the rule stops when both standard errors reach a quarter of their tolerances: a strong
 * pass. The draw cap is computed here from the layer sizes (the old code's was 22, also computed
 * here: the control); the run of the old code is in BENCHMARKS.md.
 */
class VerifyDrawBudgetTest {
  @TempDir Path tmp;

  /** Hand count of HaarOrthogonal.rotateLeft on n x k (see WeightRotations.rotateLeftFlops). */
  private static double left(double n, double k) {
    return k >= n ? 8.0 / 3 * n * n * n + 2 * n * n * k
        : 8 * n * k * k - 8.0 / 3 * k * k * k + n * k * k;
  }

  @Test
  void aSmallNetGetsAStrongPassWhereTheOldBudgetGaveAWeakOne() throws IOException {
    Path built = tmp.resolve("mlp");
    Cli b = Cli.run("build", "--arch", "mlp", "--depth", "6", "--width", "64", "--input",
        "64x64x3", "--shaped", "--method", "TAT", "--out", built.toString());
    assertEquals(0, b.code(), b.err());

    // by hand: dense 12288 -> 64 (both sides, bias row), 5 square 64 x 64 (left only), logits
    // 64 -> 10 (both sides); forward: 2 FLOP per weight x 2 inputs x 3 input c, 1 location
    double rot = left(12288, 64) + left(64, 12288 + 1) + 5 * left(64, 64) + left(64, 10)
        + left(10, 64 + 1);
    double pair = 2.0 * (12288 * 64 + 5 * 64 * 64 + 64 * 10) * 2 * 3;
    double fixed = rot / 5e9 + 0.01;
    // pairs per draw: sqrt(0.122 / 0.00097) x 5 = 56.1 -> 64
    assertEquals(64, 8 * (int) Math.ceil(Math.sqrt(fixed / (pair / 10e9)) * 5 / 8));
    int cap = 1 + (int) Math.floor(15 / (fixed + 64 * pair / 10e9));
    assertEquals(82, cap);
    // what the 20 GFLOP of before paid for (32 pairs a draw, 50 MFLOP of overhead)
    int old = 1 + (int) Math.floor(20e9 / (rot + 50e6 + 32 * pair));
    assertEquals(22, old);

    Cli v = Cli.run("verify", built.toString(), "--json");
    assertEquals(0, v.code(), v.err());
    JsonNode j = new ObjectMapper().readTree(v.out());
    assertEquals(cap, j.get("draw_cap").asInt(), j.toString());
    assertEquals(64, j.get("pairs_per_draw").asInt(), j.toString());
    assertTrue(j.get("passed").asBoolean(), j.toString());
    assertFalse(j.get("weak_pass").asBoolean(), j.toString());
    assertEquals("precision", j.get("draw_rule").asText(), j.toString());
    assertTrue(j.get("draws").asInt() > old, j.toString());
    assertTrue(j.get("c_standard_error").asDouble() <= 0.25 * 0.03, j.toString());
    assertTrue(j.get("widened_allowances").isEmpty(), j.toString());
  }
}
