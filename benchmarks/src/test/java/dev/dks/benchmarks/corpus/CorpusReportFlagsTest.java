package dev.dks.benchmarks.corpus;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The corpus report names the verify flags its run used (issue 12): the cheap flags of CorpusTest,
 * or verify's own defaults ({@code --verify-flags default} of the harness). No model is run.
 */
class CorpusReportFlagsTest {
  @Test
  void verifyRowsNameTheFlagsOfTheRun() {
    String cheap = CorpusReport.markdown(List.of(), List.of("header"),
        List.of("--pairs", "8", "--draws", "1"));
    assertTrue(cheap.contains("| verify passes (--pairs 8 --draws 1), TAT | 0 |"), cheap);
    assertTrue(cheap.contains("`dks verify` (--pairs 8 --draws 1) on the rewrites"), cheap);

    String defaults = CorpusReport.markdown(List.of(), List.of("header"), List.of());
    assertTrue(defaults.contains("| verify passes (its default flags), DKS softplus | 0 |"),
        defaults);
    assertTrue(defaults.contains("`dks verify` (its default flags) on the rewrites"), defaults);
    // negative control: a default-flag report must not claim the cheap flags
    assertFalse(defaults.contains("--pairs"), defaults);
  }

  @Test
  void theTwoArgumentReportKeepsTheCheapFlagsOfCorpusTest() {
    String md = CorpusReport.markdown(List.of(), List.of("header"));
    assertTrue(md.contains("`dks verify` (--pairs 8 --draws 1) on the rewrites"), md);
  }
}
