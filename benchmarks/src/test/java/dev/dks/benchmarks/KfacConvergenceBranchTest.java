package dev.dks.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.savedmodels.assets.SharedAssets;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.TestAbortedException;

/**
 * {@link KfacConvergenceHarness}'s branches: a run that takes its parent's state at step S must
 * continue exactly as the parent does when its settings are the parent's (the parent's own
 * uninterrupted steps are the independent reference), and must not when a setting differs.
 */
class KfacConvergenceBranchTest {

  @Test
  void aBranchWithTheParentsSettingsRepeatsItsStepsAndAnotherDampingChangesThem(
      @TempDir Path dir) throws Exception {
    SharedAssets.dataCacheOrSkip("fashion-mnist/train-images-idx3-ubyte.gz",
        TestAbortedException::new);
    // inverses every 2 steps, so that a damping set at the branch (step 4) enters the update
    // of step 4 already; one TF thread, so that two graphs of one network compute alike
    String net = "kfac-default:arch=plain,inv=2";
    KfacConvergenceHarness.Options o = KfacConvergenceHarness.Options.parse(new String[] {
        "--runs", net + ",label=parent;" + net + ",branch=4,label=same;" + net
            + ",branch=4,damping=1,label=damped;sgd:arch=plain,steps=20,label=longer",
        "--steps", "10", "--depth", "4", "--width", "4", "--pool-every", "2", "--batch", "48",
        "--eval-every", "5", "--eval-examples", "100", "--threads", "1",
        "--reference", "parent", "--out", dir.toString()});
    List<KfacConvergenceHarness.Run> runs;
    try (PrintStream quiet = new PrintStream(OutputStream.nullOutputStream())) {
      runs = KfacConvergenceHarness.run(o, quiet);
    }
    KfacConvergenceHarness.Run parent = runs.get(0);
    KfacConvergenceHarness.Run same = runs.get(1);
    KfacConvergenceHarness.Run damped = runs.get(2);
    KfacConvergenceHarness.Run longer = runs.get(3);
    assertSame(parent, same.parent);
    for (KfacConvergenceHarness.Run r : runs) {
      assertNull(r.diverged, r.label);
      assertEquals(r == longer ? 20 : 10, r.steps.size(), r.label);
    }
    // steps=20: its own cosine over 20 steps after a 2-step warm-up (a tenth), not --steps 10's
    assertEquals(0.5 * 0.01 * (1 + Math.cos(Math.PI * 13 / 18)), longer.steps.get(15)[3], 1e-12);
    assertEquals(List.of(5L, 10L, 15L, 20L), longer.checkpoints.stream().map(c -> c.step())
        .toList());
    for (int s = 4; s < 10; s++) {
      // the branch's own steps from the copied state: the parent's to the last bit
      assertEquals(parent.steps.get(s)[1], same.steps.get(s)[1], 0, "loss at step " + s);
    }
    // the loss of step 4 is computed before its update, from the copied weights
    assertEquals(parent.steps.get(4)[1], damped.steps.get(4)[1], 0);
    // damping 1 instead of 1e-2 shrinks every update; if the copy's damping (the parent's
    // 1e-2) were left in place, the steps would equal the parent's
    double largest = 0;
    for (int s = 5; s < 10; s++) {
      largest = Math.max(largest, Math.abs(parent.steps.get(s)[1] - damped.steps.get(s)[1]));
    }
    assertTrue(largest > 1e-4, "damped branch moved the loss by only " + largest);
    // the branch's record starts with the parent's checkpoint at step 5, then its own at 10
    assertEquals(List.of(5L, 10L), same.checkpoints.stream().map(c -> c.step()).toList());
    assertEquals(parent.checkpoints.get(1).accuracy(), same.checkpoints.get(1).accuracy(), 0);
    assertTrue(Files.readString(dir.resolve("steps.csv")).contains("\"damped\",9,"));
  }

  @Test
  void aBranchWithoutAParentOrOutsideTheRunIsRefused() {
    List<KfacConvergenceHarness.Run> noParent = List.of(
        KfacConvergenceHarness.Run.parse("resnet"),
        KfacConvergenceHarness.Run.parse("kfac-default:branch=5,label=late"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> KfacConvergenceHarness.resolveBranches(noParent, 10));
    assertTrue(e.getMessage().contains("'late'") && e.getMessage().contains("kfac-default"),
        e.getMessage());
    List<KfacConvergenceHarness.Run> late = List.of(
        KfacConvergenceHarness.Run.parse("kfac-default"),
        KfacConvergenceHarness.Run.parse("kfac-default:branch=10"));
    assertThrows(IllegalArgumentException.class,
        () -> KfacConvergenceHarness.resolveBranches(late, 10));
    List<KfacConvergenceHarness.Run> otherNet = List.of(
        KfacConvergenceHarness.Run.parse("resnet"),
        KfacConvergenceHarness.Run.parse("kfac-default:branch=5,of=resnet"));
    assertThrows(IllegalArgumentException.class,
        () -> KfacConvergenceHarness.resolveBranches(otherNet, 10));
    List<KfacConvergenceHarness.Run> ok = List.of(
        KfacConvergenceHarness.Run.parse("kfac-default"),
        KfacConvergenceHarness.Run.parse("resnet"),
        KfacConvergenceHarness.Run.parse("kfac-default:branch=5,ema=0.995"));
    KfacConvergenceHarness.resolveBranches(ok, 10);
    assertSame(ok.get(0), ok.get(2).parent);
  }
}
