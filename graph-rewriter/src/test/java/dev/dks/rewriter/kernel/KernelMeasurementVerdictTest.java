package dev.dks.rewriter.kernel;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The q half of a row's verdict: an error within its allowance passes, one beyond it fails, and a
 * q that was not measured or not predicted (NaN, e.g. an overflowed activation) fails rather than
 * passing by comparison with NaN.
 */
class KernelMeasurementVerdictTest {
  private static KernelMeasurement row(double predictedQ, double measuredQ) {
    return new KernelMeasurement("t", 1, 0.5, predictedQ, measuredQ, 0.5, 0.5, 0.5);
  }

  @Test
  void qWithinItsAllowancePassesAndBeyondItFails() {
    assertFalse(row(1.0, 1.4).qFails(0.5));
    assertTrue(row(1.0, 1.6).qFails(0.5));
  }

  @Test
  void nanQFails() {
    assertTrue(row(1.0, Double.NaN).qFails(0.5));
    assertTrue(row(Double.NaN, 1.0).qFails(0.5));
  }
}
