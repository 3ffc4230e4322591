package dev.dks.benchmarks.corpus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/**
 * What the corpus run reads from one output of {@code dks verify --json} about q: where q is
 * judged by log q, the log q error at the judged tensor is what the verdict compared (a predicted
 * q of 3e26 missed by a factor 2 is a q error of 1.5e26 and a log q error of log 2), and the report
 * says so. Hand-written JSON in verify's layout; no model is run.
 */
class CorpusVerifyJsonTest {
  private static final String OUTPUT = """
      {"output": "segment", "judged_tensor": "conv2d_30", "rows": [
        {"tensor": "conv2d_29", "predicted_q": 1e30, "measured_log_q": 10.0,
         "predicted_log_q": 69.0, "log_q_allowed": 0.5, "past_judged": false},
        {"tensor": "conv2d_30", "input_c": 0.0, "predicted_q": 3e26, "measured_log_q": 60.9,
         "predicted_log_q": 61.6, "log_q_allowed": 1.2, "past_judged": false},
        {"tensor": "conv2d_30", "input_c": 0.9, "predicted_q": 2e26, "measured_log_q": 60.5,
         "predicted_log_q": 60.8, "log_q_allowed": 1.1, "past_judged": false},
        {"tensor": "conv2d_30", "input_c": 0.5, "predicted_q": 9e40, "measured_log_q": 1.0,
         "predicted_log_q": 90.0, "log_q_allowed": 0.4, "past_judged": true}
      ]}""";

  @Test
  void theJudgedTensorsLogQErrorIsRead() throws IOException {
    JsonNode o = new ObjectMapper().readTree(OUTPUT);
    CorpusVerify.JudgedQ q = CorpusVerify.JudgedQ.of(o);
    // rows at conv2d_30 that are judged: |60.9 - 61.6| = 0.7 (allowed 1.2) and 0.3; the row
    // before (conv2d_29) and the row past the judged op are left out
    assertEquals(0.7, q.logQError(), 1e-12);
    assertEquals(1.2, q.logQAllowed(), 0);
    assertEquals(3e26, q.predictedQ(), 0);

    // q judged by its mean (one draw: no log_q_allowed): no log q error
    JsonNode mean = new ObjectMapper().readTree("""
        {"judged_tensor": "t", "rows": [{"tensor": "t", "predicted_q": 1.0,
         "log_q_allowed": null, "past_judged": false}]}""");
    CorpusVerify.JudgedQ m = CorpusVerify.JudgedQ.of(mean);
    assertNull(m.logQError());
    assertEquals(1.0, m.predictedQ(), 0);
  }

  @Test
  void theReportSaysWhenQWasJudgedByLogQ() throws IOException {
    CorpusVerify.JudgedQ q = CorpusVerify.JudgedQ.of(new ObjectMapper().readTree(OUTPUT));
    CorpusResult.OutputVerdict judged = new CorpusResult.OutputVerdict("segment", true, true,
        0.006, 1.5e26, null, q.predictedQ(), q.logQError(), q.logQAllowed());
    assertEquals(" (q judged by log q: log q error 0.7000, allowed 1.2000, predicted q 3.000e+26)",
        CorpusReport.logQ(judged));
    // negative control: a verdict stored without the q details says nothing more
    CorpusResult.OutputVerdict old = new CorpusResult.OutputVerdict("segment", true, true, 0.006,
        0.2, null);
    assertEquals("", CorpusReport.logQ(old));
    assertTrue(CorpusReport.logQ(null).isEmpty());
  }
}
