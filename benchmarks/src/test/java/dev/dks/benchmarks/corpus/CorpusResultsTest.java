package dev.dks.benchmarks.corpus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The corpus run's results folder (issue 12): a model's stored run reads back as written (NaN
 * errors included), a run with other verify flags is not combined with it, and the report built
 * from stored runs shows weak passes, each FAIL's reason and the models not reached. Hand-made
 * results; no model is run.
 */
class CorpusResultsTest {
  private static final String FAIL_REASON = "at 'conv4_2' (depth 15, input c 0.00) the measured "
      + "c is 1.0000 but 0.8700 is predicted: error 0.1300 > allowed c error 0.050";

  @TempDir
  Path dir;

  @Test
  void aStoredRunReadsBackAsWrittenAndOnlyWithItsOwnFlags() throws IOException {
    CorpusResults.ModelRun run = new CorpusResults.ModelRun(List.of(), "abc1234", 12.5, 20.25,
        "2026-12-07T21:00:00Z", model("gear", verify(0, true, 0.01), verify(1, false, 0.13)));
    CorpusResults.write(dir, run);
    assertTrue(Files.isRegularFile(dir.resolve("gear.json")));

    Map<String, CorpusResults.ModelRun> back = CorpusResults.read(dir,
        List.of("gear", "age"), List.of());
    assertEquals(List.of("gear"), List.copyOf(back.keySet()));
    assertEquals(run, back.get("gear"));
    CorpusResult.Verify tat = back.get("gear").result().rewrites().get("TAT").verify();
    assertTrue(tat.weakPass());
    assertTrue(Double.isNaN(tat.maxQError()));
    assertEquals(FAIL_REASON,
        back.get("gear").result().rewrites().get("DKS softplus").verify().reason());

    // negative control: a cheap-flag run is not a default-flag result
    assertTrue(CorpusResults.read(dir, List.of("gear"), CorpusVerify.FLAGS).isEmpty());
  }

  @Test
  void theReportShowsWeakPassesFailReasonsAndModelsNotReached() {
    List<CorpusResult> results = List.of(
        model("gear", verify(0, true, 0.01), verify(1, false, 0.13)),
        model("gender", verify(0, false, 0.01), verify(0, false, 0.02)));
    String md = CorpusReport.markdown(results, List.of("header"), List.of(),
        List.of("faceboxes", "rvm"));
    assertTrue(md.contains("| gear | 91 |"), md);
    assertTrue(md.contains("verify weak pass |"), md);
    // gender passes plainly under both methods: never called weak
    String genderRow = md.lines().filter(l -> l.startsWith("| gender | ")).findFirst()
        .orElseThrow();
    assertFalse(genderRow.contains("weak"), genderRow);
    // TAT: 2 passes, 1 of them weak, no FAIL; DKS: 1 pass, not weak, 1 FAIL
    assertTrue(md.contains("| TAT | 2 | 1 | 0 | 0 | 0 |"), md);
    assertTrue(md.contains("| DKS softplus | 1 | 0 | 1 | 0 | 0 |"), md);
    assertTrue(md.contains("| gear | DKS softplus | 1 | " + FAIL_REASON + " |"), md);
    assertTrue(md.contains("| faceboxes | not reached | | | not reached | not reached |"), md);
    assertTrue(md.contains("**Not reached** (2 of 4 models"), md);
    assertTrue(md.contains("| step | passing of 2 reached |"), md);

    // negative control: a complete run names no model as not reached
    String whole = CorpusReport.markdown(results, List.of("header"), List.of());
    assertFalse(whole.contains("not reached"), whole);
    assertTrue(whole.contains("| step | passing of 2 |"), whole);
  }

  @Test
  void aReportFromRunsOfTwoCommitsNamesEachRowsCommit() {
    List<CorpusResult> results = List.of(
        model("gear", verify(0, true, 0.01), verify(1, false, 0.13)),
        model("gender", verify(0, false, 0.01), verify(0, false, 0.02)));
    Map<String, String> commits = Map.of("gear", "2e7ec34", "gender", "3bfa764");
    String md = CorpusReport.markdown(results, List.of("header"), List.of(), List.of("rvm"),
        commits);
    // the models table's rows (name, then the node count)
    String gearRow = md.lines().filter(l -> l.startsWith("| gear | 91 |")).findFirst()
        .orElseThrow();
    String genderRow = md.lines().filter(l -> l.startsWith("| gender | 91 |")).findFirst()
        .orElseThrow();
    assertTrue(gearRow.endsWith(" 2e7ec34 |"), gearRow);
    assertTrue(genderRow.endsWith(" 3bfa764 |"), genderRow);
    assertTrue(md.contains("| model | nodes | convert (max rel. diff) | read ms | TAT | "
        + "DKS softplus | code |"), md);
    assertTrue(md.contains("**Code per row**: commit 2e7ec34 (1 models: gear); commit 3bfa764 "
        + "(1 models: gender)."), md);
    assertTrue(md.contains("### gear\n\n- code: commit 2e7ec34\n"), md);
    // a row not reached keeps the table's column count: name, 3 blanks, 2 methods, code
    String rvmRow = md.lines().filter(l -> l.startsWith("| rvm | ")).findFirst().orElseThrow();
    assertEquals(8, rvmRow.chars().filter(ch -> ch == '|').count(), rvmRow);

    // the JSON beside it: each result with its commit added, the result's own keys kept
    List<com.fasterxml.jackson.databind.node.ObjectNode> json =
        CorpusHarness.withCommits(results, Map.of("gear", "2e7ec34"));
    assertEquals("2e7ec34", json.get(0).path("commit").asText());
    assertEquals("gear", json.get(0).path("name").asText());
    assertTrue(json.get(1).path("commit").isMissingNode());

    // negative control: a report of one commit has no code column
    String one = CorpusReport.markdown(results, List.of("header"), List.of(), List.of());
    assertFalse(one.contains("code"), one);
  }

  private static CorpusResult.Verify verify(int exit, boolean weak, double c) {
    return new CorpusResult.Verify(exit, exit == 0, weak, c, Double.NaN,
        exit == 0 ? null : FAIL_REASON, 1000, List.of());
  }

  private static CorpusResult model(String name, CorpusResult.Verify tat,
      CorpusResult.Verify dks) {
    Map<String, CorpusResult.Rewrite> rewrites = new LinkedHashMap<>();
    rewrites.put("TAT", rewrite(tat));
    rewrites.put("DKS softplus", rewrite(dks));
    return new CorpusResult(name, 91, Map.of("Conv2D", 4), List.of("x float[-1,4]"),
        List.of("y float[-1,1]"), new CorpusResult.Convert(true, null, 1, 2, 0, List.of()),
        rewrites);
  }

  private static CorpusResult.Rewrite rewrite(CorpusResult.Verify v) {
    return new CorpusResult.Rewrite(true, null, 30, List.of("pass: 1"), true, true, v,
        new CorpusResult.WarmTime(10, 20));
  }
}
