package dev.dks.rewriter.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The report's summary line and its weak-pass note, on rows written by hand: the largest c error
 * over all layers leaves out rows without a c (the TF.js age model's width-1 output, whose
 * divisions give pairs of infinite features, printed NaN there), and a pass whose allowances
 * stayed wider than the tolerances says so.
 */
class KernelReportTextTest {
  private static KernelMeasurement row(String t, double cIn, double predC, double measC,
      double cAllowed, double logQAllowed) {
    return new KernelMeasurement(t, 1, cIn, 1.0, 1.0, predC, measC, 0.5, cAllowed,
        -0.1, -0.12, logQAllowed);
  }

  @Test
  void largestCErrorLeavesOutRowsWithoutC() {
    List<KernelMeasurement> rows = List.of(
        row("hidden", 0, 0.30, 0.33, 0.03, 0.5), row("hidden", 0.5, 0.60, 0.62, 0.03, 0.5),
        row("out", 0, 0.11, Double.NaN, 0.03, Double.NaN),
        row("out", 0.5, 0.42, 0.40, 0.03, Double.NaN));
    KernelReport r = new KernelReport(rows, 0.03, 0.5, 6, "hidden", true);
    // by hand: |0.33 - 0.30| = 0.03, |0.62 - 0.60| = 0.02, |0.40 - 0.42| = 0.02; NaN left out
    assertEquals(0.03, r.maxCError(), 1e-12);
    assertEquals(1, r.rowsWithoutCError().size());
    String text = r.toText();
    // the table shows the row's NaN; the summary line does not
    String summary = text.lines().filter(l -> l.startsWith("PASS")).findFirst().orElseThrow();
    assertFalse(summary.contains("NaN"), text);
    assertTrue(text.contains("largest c error over all layers 0.0300 (not counted: 1 row at "
        + "'out' has no c error"), text);
    // every row without c: n/a with the reason
    KernelReport none = new KernelReport(List.of(row("out", 0, 0.11, Double.NaN, 0.03,
        Double.NaN)), 0.03, 0.5, 1, "out", false);
    assertTrue(Double.isNaN(none.maxCError()));
    assertTrue(none.toText().contains("largest c error over all layers n/a (1 row at 'out' has "
        + "no c error: the measured or predicted c is not a number"), none.toText());
  }

  @Test
  void weakPassNamesTheWidenedAllowancesAndTheDrawsThatWouldNarrowThem() {
    double logBase = Math.log(1.5);
    List<KernelMeasurement> rows = List.of(row("head", 0, 0.10, 0.12, 0.142, 0.536),
        row("head", 0.9, 0.75, 0.77, 0.03, logBase));
    KernelSampling s = new KernelSampling(67, 8, 43, 8, 0.0343, "cost cap", 0.134, 67);
    KernelReport r = new KernelReport(rows, 0.03, 0.5, 6, "head", true).withSampling(s);
    assertEquals(Map.of("c", 0.142, "log_q", 0.536), r.widenedAllowances());
    assertTrue(r.weakPass());
    String text = r.toText();
    assertTrue(text.contains("note: weak PASS: allowed c error 0.142 (tolerance 0.030), log q "
        + "error 0.536 (tolerance 0.405): errors up to these pass unseen; 67 weight draws were "
        + "measured, the most the check's cost budget pays for"), text);
    // draws to reach both targets: 67 x max(0.0343 / 0.0075, 0.134 / 0.1014)^2 = 1402
    long want = (long) Math.ceil(67 * Math.pow(Math.max(0.0343 / 0.0075,
        0.134 / (0.25 * logBase)), 2));
    assertEquals(1402, want);
    assertTrue(text.contains("(--draws 1402 would narrow them to the tolerances)"), text);
    // control: allowances at the tolerances, no note; a failed check is not a weak pass
    KernelReport tight = new KernelReport(List.of(row("head", 0, 0.1, 0.12, 0.03, logBase)),
        0.03, 0.5, 6, "head", true).withSampling(s);
    assertTrue(tight.widenedAllowances().isEmpty());
    assertFalse(tight.weakPass());
    assertFalse(tight.toText().contains("weak PASS"), tight.toText());
    KernelReport failed = new KernelReport(rows, 0.03, 0.5, 6, "head", false).withSampling(s);
    assertFalse(failed.weakPass());
    assertFalse(failed.toText().contains("weak PASS"), failed.toText());
  }

  @Test
  void drawsStoppedByOneAtATimeFeedingAreNotBlamedOnTheBudget() {
    List<KernelMeasurement> rows = List.of(row("head", 0, 0.10, 0.12, 0.142, 0.536));
    // the width rule's 24 draws, no draw added: the cap equals the draws
    KernelSampling s = new KernelSampling(24, 32, 0, 0, 0.0343, "widths", 0.134, 24);
    assertTrue(s.budgetLimited());
    KernelReport budget = new KernelReport(rows, 0.03, 0.5, 6, "head", true).withSampling(s);
    assertTrue(budget.drawsBudgetLimited());
    assertTrue(budget.toText().contains("the most the check's cost budget pays for"),
        budget.toText());
    KernelReport single = budget.withOneAtATime("the graph fixes its batch at 1");
    assertFalse(single.drawsBudgetLimited());
    assertFalse(single.toText().contains("cost budget"), single.toText());
    assertTrue(single.toText().contains("none were added: the examples went one at a time"),
        single.toText());
  }

  @Test
  void widenedAllowancesOfSeveralOutputsTakeTheWidestOfEach() {
    KernelReport a = new KernelReport(List.of(row("a", 0, 0.1, 0.12, 0.05, Math.log(1.5))),
        0.03, 0.5, 6, "a", true);
    KernelReport b = new KernelReport(List.of(row("b", 0, 0.1, 0.12, 0.09, 0.7)), 0.03, 0.5, 6,
        "b", true);
    KernelReport both = new KernelReport(List.of(), 0.03, 0.5, 6, "a", true,
        List.of(new OutputCheck("out_a", a, null), new OutputCheck("out_b", b, null)));
    assertEquals(Map.of("c", 0.09, "log_q", 0.7), both.widenedAllowancesOfCheckedOutputs());
  }
}
