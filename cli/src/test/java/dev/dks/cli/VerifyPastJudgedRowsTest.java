package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.dks.rewriter.kernel.KernelMeasurement;
import dev.dks.rewriter.kernel.KernelReport;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The JSON rows of {@code dks verify} past an op the maps cannot predict after (rows written by
 * hand, as facemesh-attention's after its spatial transformer's GatherV2: measured q 0.11, c
 * 0.95) keep every key of a predicted row, with the predicted values, allowances and the c error
 * null and the measurements kept, and say so with {@code past_judged} and the op in {@code
 * past_judged_note}; a predicted row has {@code past_judged} false and its numbers (c error
 * |0.42 - 0.40| = 0.02 by hand).
 */
class VerifyPastJudgedRowsTest {
  @Test
  void rowsPastTheJudgedTensorAreMeasuredOnly() {
    KernelMeasurement before = new KernelMeasurement("hidden", 3, 0.5, 1.0, 1.02, 0.42, 0.40,
        0.5, 0.03, -0.01, -0.02, 0.4);
    KernelMeasurement after = KernelMeasurement.pastJudged("crop", 21, 0.5, 0.11, 0.95,
        Math.log(0.11), "not predicted: past 'transform/GatherV2' (GatherV2), which the "
        + "per-location maps cannot predict past");
    KernelReport r = new KernelReport(List.of(before, after), 0.03, 0.5, 16, "hidden", true);
    ArrayNode rows = Json.object().putArray("rows");
    VerifyCommand.rows(rows, r);
    JsonNode p = rows.get(0);
    JsonNode u = rows.get(1);
    List<String> keys = new ArrayList<>();
    List<String> pastKeys = new ArrayList<>();
    p.fieldNames().forEachRemaining(keys::add);
    u.fieldNames().forEachRemaining(pastKeys::add);
    assertEquals(keys, pastKeys);
    assertTrue(keys.containsAll(List.of("predicted_q", "measured_q", "predicted_c", "measured_c",
        "c_error", "q_allowed", "c_allowed", "predicted_log_q", "measured_log_q",
        "log_q_allowed", "past_judged", "past_judged_note")), keys.toString());
    assertFalse(p.get("past_judged").asBoolean());
    assertTrue(p.get("past_judged_note").isNull());
    assertEquals(0.02, p.get("c_error").asDouble(), 1e-12);
    assertTrue(u.get("past_judged").asBoolean());
    assertTrue(u.get("past_judged_note").asText().contains("'transform/GatherV2' (GatherV2)"));
    for (String k : List.of("predicted_q", "predicted_c", "c_error", "q_allowed", "c_allowed",
        "predicted_log_q", "log_q_allowed")) {
      assertTrue(u.get(k).isNull(), k + ": " + u);
    }
    assertEquals(0.11, u.get("measured_q").asDouble(), 1e-12);
    assertEquals(0.95, u.get("measured_c").asDouble(), 1e-12);
    assertEquals(Math.log(0.11), u.get("measured_log_q").asDouble(), 1e-12);
    // the summary numbers count the predicted row alone
    assertEquals(0.02, r.maxCError(), 1e-12);
    assertTrue(r.rowsWithoutCError().isEmpty());
  }
}
