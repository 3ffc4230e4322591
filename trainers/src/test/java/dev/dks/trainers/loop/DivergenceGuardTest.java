package dev.dks.trainers.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.model.Model;
import dev.dks.trainers.graph.TrainingGraph;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.TensorProto;

/** A NaN injected into one batch stops the run there and leaves the last checkpoint intact. */
class DivergenceGuardTest {
  private static final long N = 40;
  private static final long EVERY = 5;

  /** Keeps the variables after {@code at} completed steps. */
  private static final class Snapshot implements TrainingListener {
    private final long at;
    Map<String, TensorProto> vars;

    Snapshot(long at) {
      this.at = at;
    }

    @Override
    public void onStep(TrainingContext c, StepResult r) {
      if (r.step() + 1 == at) {
        vars = c.graph().variables();
      }
    }
  }

  private void check(Path dir, long bad, boolean guardFirst) throws Exception {
    Model m = LoopFixtures.model();
    Path ckpt = dir.resolve("run.ckpt");
    long good = bad / EVERY * EVERY;
    DivergenceGuard guard = new DivergenceGuard();
    CheckpointListener cl = new CheckpointListener(ckpt, EVERY);
    Snapshot snap = new Snapshot(good);
    try (TrainingGraph g = LoopFixtures.graph(m)) {
      BatchSource src = LoopFixtures.poisoned(
          BatchSource.of(LoopFixtures.batches(LoopFixtures.DATA_SEED)), bad);
      Trainer.Builder b = LoopFixtures.trainer(g, src, N);
      List<TrainingListener> ls = guardFirst ? List.of(guard, cl, snap) : List.of(snap, cl, guard);
      ls.forEach(b::listener);
      TrainingOutcome o = b.build().run();

      assertEquals(TrainingOutcome.Status.DIVERGED, o.status());
      assertEquals(bad + 1, o.completedSteps(), "the run stops after the bad step");
      DivergenceReport r = o.divergence();
      assertNotNull(r);
      System.out.println(r.message());
      assertEquals(bad, r.step());
      assertTrue(Double.isNaN(r.loss()));
      assertFalse(r.inputFinite());
      assertNotNull(r.firstNonFiniteVariable(), r.message());
      assertTrue(g.variables().containsKey(r.firstNonFiniteVariable()));
      assertTrue(r.nonFiniteVariables().get(0).startsWith(r.firstNonFiniteVariable() + "="));
      assertEquals(ckpt, r.lastCheckpoint());
      assertEquals(good, r.lastCheckpointStep());
      assertTrue(r.message().contains(r.firstNonFiniteVariable()), r.message());
      assertTrue(!guardFirst || cl.skipped() == 0);
    }
    Checkpoint c = Checkpoint.load(ckpt);
    assertEquals(good, c.step());
    assertTrue(CheckpointListener.allFinite(c.variables()));
    assertTrue(CheckpointListener.allFinite(c.slots()));
    LoopFixtures.assertSameBytes(snap.vars, c.variables());
    assertEquals(List.of("run.ckpt"), LoopFixtures.files(dir));
  }

  @Test
  void nanBatchTriggersGuardAtThatStep(@TempDir Path dir) throws Exception {
    check(dir, 23, true);
  }

  @Test
  void checkpointDueAtTheBadStepIsNotWrittenWhateverTheListenerOrder(@TempDir Path dir)
      throws Exception {
    check(dir, 24, false); // step 24 completes 25 steps: a checkpoint is due right then
  }
}
