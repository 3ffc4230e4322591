package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12's known failure, found by the verify sweep (benchmarks/run-verify-sweep.sh): the real
 * MobileNetV2 (width multiplier 0.35, 8-channel bottlenecks) rewritten by DKS softplus at rewrite
 * seed 2 failed {@code dks verify} on q: at the head's input, input c 0.9, a mean q of 3.82
 * predicted (the finite-width simulation's, 1.18 and 1.72 at the other input c values, though the
 * mean q does not depend on the input c: a heavy tail) against 1.16 measured over 24 draws. q is
 * now judged by its mean log q, which the simulation (plain Java) and TensorFlow's measurement, two
 * independent computations, put at -0.35 and -0.36 there. It passes now, and the judged rows'
 * mean log q agree within half the allowance. About 25 s of CPU (rewrite 8 s, verify 17 s).
 */
@Tag("slow")
class VerifyMobileNetV2LogQTest {
  @TempDir Path tmp;

  @Test
  void dksSoftplusMobileNetV2AtSeedTwoPassesOnLogQ() throws IOException {
    Path src = Assets.sharedModel("tm_mobilenetv2_035_tf115");
    Path out = tmp.resolve("mnv2_dks_s2");
    Cli r = Cli.run("rewrite", src.toString(), "--method", "DKS", "--activation", "softplus",
        "--seed", "2", "--out", out.toString());
    assertEquals(0, r.code(), r.err());
    JsonNode j = VerifyNoFlagsTest.verify(out, 0);
    int judged = 0;
    for (JsonNode row : j.get("rows")) {
      if (!row.get("tensor").asText().equals(j.get("judged_tensor").asText())) {
        continue;
      }
      judged++;
      double allowed = row.get("log_q_allowed").asDouble();
      assertTrue(allowed >= Math.log(1.5) && allowed < 2 * Math.log(2),
          "a doubled kernel (log 4) still fails: " + row);
      assertEquals(row.get("predicted_log_q").asDouble(), row.get("measured_log_q").asDouble(),
          allowed / 2, row.toString());
    }
    assertEquals(3, judged, j.toString());
  }
}
