package dev.dks.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The time-to-accuracy arithmetic on hand-made checkpoints (values worked out by hand). */
class TimeToAccuracyTest {
  private static final TimeToAccuracy.Series REF = new TimeToAccuracy.Series("ref", List.of(
      new TimeToAccuracy.Checkpoint(100, 10, 20, 0.80, 1000),
      new TimeToAccuracy.Checkpoint(200, 20, 40, 0.85, 1000),
      new TimeToAccuracy.Checkpoint(400, 40, 80, 0.90, 1000)));
  private static final TimeToAccuracy.Series FAST = new TimeToAccuracy.Series("fast", List.of(
      new TimeToAccuracy.Checkpoint(100, 12, 30, 0.86, 1000),
      new TimeToAccuracy.Checkpoint(200, 24, 60, 0.905, 1000),
      new TimeToAccuracy.Checkpoint(400, 48, 120, 0.89, 1000)));
  private static final TimeToAccuracy.Series SLOW = new TimeToAccuracy.Series("slow", List.of(
      new TimeToAccuracy.Checkpoint(100, 5, 5, 0.5, 1000)));

  @Test
  void targetIsTheReferenceAtItsStepAndRunsReachItAtTheirFirstCheckpointAbove() {
    TimeToAccuracy.Target t = TimeToAccuracy.Target.of(REF, 400);
    assertEquals(0.90, t.accuracy());
    assertEquals(40, t.wallSeconds());
    // step 300 has no checkpoint: the one before it (200) is the target
    assertEquals(0.85, TimeToAccuracy.Target.of(REF, 300).accuracy());
    assertThrows(IllegalArgumentException.class, () -> TimeToAccuracy.Target.of(REF, 50));

    List<Map<String, Object>> rows = TimeToAccuracy.rows(List.of(REF, FAST, SLOW), t);
    assertEquals(400L, rows.get(0).get("reachedAtStep"));
    assertEquals(1.0, (double) rows.get(0).get("wallRatioToReference"), 0);
    // 0.905 >= 0.90 at step 200, 24 s of 40 s; the later dip to 0.89 does not undo it
    assertEquals(200L, rows.get(1).get("reachedAtStep"));
    assertEquals(0.6, (double) rows.get(1).get("wallRatioToReference"), 1e-12);
    assertEquals(0.75, (double) rows.get(1).get("cpuRatioToReference"), 1e-12);
    assertNull(rows.get(2).get("reachedAtStep"));

    String md = TimeToAccuracy.markdown(List.of(REF, FAST, SLOW), t);
    assertTrue(md.contains("| fast | 200 | 24.0 | 0.60x | 60.0 | 0.75x | 400 | 0.8900 |"), md);
    assertTrue(md.contains("| slow | not reached |"), md);
    String chart = TimeToAccuracy.textChart(List.of(REF, FAST, SLOW), t, 40, 10);
    assertEquals(10 + 2 + 4, chart.lines().count(), chart);
  }
}
