package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.kernel.KernelMeasurement;
import dev.dks.rewriter.kernel.KernelReport;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code dks verify}'s failure reason names a predicted q overflow as such: rows as the TF.js
 * model meet gave them when shaped by DKS softplus at local Q'(1) = 1 (predicted q 5.4e46 at
 * multiply_4, depth 25, the first past float32's 3.4e38; infinite at conv2d_30, where the measured
 * q was NaN) fail with "the predicted q overflows float32 at 'multiply_4' (depth 25 ...", not the
 * NaN at the judged tensor. Control: the same rows with the predicted q at exactly float32's
 * largest value give the generic reason.
 */
class VerifyQOverflowReasonTest {
  private static KernelMeasurement row(String t, int depth, double predictedQ, double measuredQ) {
    return new KernelMeasurement(t, depth, 0.0, predictedQ, measuredQ, 0.36, 0.35, 0.5, 0.03,
        Double.NaN, Double.NaN, Double.NaN);
  }

  private static KernelReport report(double deepPredicted, double lastPredicted) {
    return new KernelReport(List.of(row("multiply_3", 21, 1.98e21, 1.32e20),
        row("multiply_4", 25, deepPredicted, 2.3e42), row("conv2d_30", 38, lastPredicted,
        Double.NaN)), 0.03, 0.5, 16, "conv2d_30", false, List.of());
  }

  @Test
  void anOverflowingPredictionIsTheReason() {
    KernelReport r = report(5.4e46, Double.POSITIVE_INFINITY);
    String why = VerifyCommand.reason(r);
    assertTrue(why.startsWith("the predicted q overflows float32 at 'multiply_4' (depth 25, "
        + "input c 0.00): 5.40e+46 > 3.40e+38"), why);
    assertTrue(r.toText().contains("note: the predicted q overflows float32 at 'multiply_4'"),
        r.toText());
  }

  @Test
  void aPredictionAtFloatMaxIsNoOverflow() {
    KernelReport r = report(Float.MAX_VALUE, Float.MAX_VALUE);
    String why = VerifyCommand.reason(r);
    assertFalse(why.contains("overflows"), why);
    assertTrue(why.contains("'conv2d_30'"), why);
  }
}
