package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.savedmodels.export.ServingExporter;
import dev.dks.solver.solve.Method;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.TensorProto;

/**
 * With several weight draws and a finite-width prediction, {@code dks verify} judges q by its mean
 * log q (a narrow network's q is heavy-tailed: its mean over the draws is not determined, its
 * logarithm is). A width-16 depth-20 TAT leaky-ReLU MLP: mean q 1.05 predicted, but mean log q
 * -1.51 (the q of most draws is far below their mean); the measured mean log q (TensorFlow, about
 * -1.44) meets the simulated one (plain Java) within half the allowance (about 0.54: 4 standard
 * errors of the draws' mean log q). Negative control: one hidden kernel doubled multiplies every
 * later q by 4 and leaves c exactly as it was (the leaky ReLU is positively homogeneous and the
 * biases are zero), so the check must fail on q alone, by log 4 = 1.39.
 */
class VerifyLogQTest {
  @TempDir Path tmp;

  private static Path mlp(Path dir, double factor) throws IOException {
    Model m = ModelBuilder.build(ArchitectureSpec.builder(Architecture.MLP, 20).width(16)
        .activation("leaky_relu").shaped(Method.TAT).input("1x1x16").build()).model();
    if (factor != 1) {
      Map<String, TensorProto> vars = new HashMap<>(m.variables());
      String key = vars.keySet().stream().filter(k -> k.contains("10") && k.endsWith("kernel"))
          .findFirst().orElseThrow();
      float[] k = TensorProtos.floats(vars.get(key));
      for (int i = 0; i < k.length; i++) {
        k[i] *= (float) factor;
      }
      vars.put(key, TensorProtos.ofFloats(TensorProtos.shape(vars.get(key)), k));
      m = m.with(m.graph(), vars);
    }
    ServingExporter.export(m, dir);
    return dir;
  }

  @Test
  void narrowMlpIsJudgedByLogQAndAScaledKernelFailsOnIt() throws IOException {
    JsonNode good = VerifyNoFlagsTest.verify(mlp(tmp.resolve("good"), 1), 0, "--method", "TAT");
    int judged = 0;
    for (JsonNode r : good.get("rows")) {
      if (!r.get("tensor").asText().equals(good.get("judged_tensor").asText())) {
        continue;
      }
      judged++;
      double allowed = r.get("log_q_allowed").asDouble();
      assertTrue(allowed >= Math.log(1.5) && allowed < 0.8, "the floor log 1.5 or 4 standard "
          + "errors, well under the doubled kernel's shift: " + r);
      assertEquals(r.get("predicted_log_q").asDouble(), r.get("measured_log_q").asDouble(),
          allowed / 2, r.toString());
    }
    assertEquals(3, judged, good.toString());
    // the sequential rule's log q target: its standard error at most a quarter of log 1.5, or
    // the draws at the cost cap (then the allowance may stay wide and the pass is called weak)
    double se = good.get("log_q_standard_error").asDouble();
    assertTrue(se <= 0.25 * Math.log(1.5)
        || good.get("draws").asInt() == good.get("draw_cap").asInt(), good.toString());
    // widened_allowances names exactly the judged allowances above their tolerance
    double widestC = 0;
    double widestLogQ = 0;
    for (JsonNode r : good.get("rows")) {
      if (r.get("tensor").asText().equals(good.get("judged_tensor").asText())) {
        widestC = Math.max(widestC, r.get("c_allowed").asDouble());
        widestLogQ = Math.max(widestLogQ, r.get("log_q_allowed").asDouble());
      }
    }
    JsonNode widened = good.get("widened_allowances");
    assertEquals(widestC > 0.03, widened.has("c"), widened.toString());
    assertEquals(widestLogQ > Math.log(1.5) * (1 + 1e-12), widened.has("log_q"),
        widened.toString());
    assertEquals(widened.size() > 0, good.get("weak_pass").asBoolean(), good.toString());
    assertEquals(0, good.get("rows_without_c_error").asInt());

    JsonNode bad = VerifyNoFlagsTest.verify(mlp(tmp.resolve("bad"), 2), 1, "--method", "TAT");
    assertFalse(bad.get("passed").asBoolean());
    String reason = bad.get("reason").asText();
    assertTrue(reason.contains("log q"), reason);
    for (JsonNode r : bad.get("rows")) {
      if (r.get("tensor").asText().equals(bad.get("judged_tensor").asText())) {
        assertTrue(r.get("c_error").asDouble() <= r.get("c_allowed").asDouble(), "c holds: " + r);
        double shift = r.get("measured_log_q").asDouble() - r.get("predicted_log_q").asDouble();
        assertEquals(2 * Math.log(2), shift, 0.4, r.toString());
      }
    }
  }
}
