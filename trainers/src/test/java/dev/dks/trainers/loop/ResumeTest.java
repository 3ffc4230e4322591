package dev.dks.trainers.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.model.Model;
import dev.dks.trainers.graph.TrainingGraph;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.TensorProto;

/** A run killed at a random step and resumed from its checkpoint equals an uninterrupted run. */
class ResumeTest {
  private static final long N = 40;
  private static final long EVERY = 5;

  /** Thrown by the "kill" listener. */
  private static final class Killed extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Killed(long step) {
      super("killed after step " + step);
    }
  }

  @Test
  void resumeAfterKillIsBitIdentical(@TempDir Path dir) throws Exception {
    Model m = LoopFixtures.model();
    BatchSource data = BatchSource.of(LoopFixtures.batches(LoopFixtures.DATA_SEED));

    Map<String, TensorProto> refVars;
    Map<String, TensorProto> refSlots;
    try (TrainingGraph g = LoopFixtures.graph(m)) {
      TrainingOutcome o = LoopFixtures.trainer(g, data, N).build().run();
      assertEquals(TrainingOutcome.Status.COMPLETED, o.status());
      assertEquals(N, o.completedSteps());
      refVars = g.variables();
      refSlots = g.slots();
    }
    assertFalse(refSlots.isEmpty(), "Nesterov must have slots");

    long k = EVERY + new Random(20240605L).nextLong(N - EVERY); // step after which we "kill"
    Path ckpt = dir.resolve("run.ckpt");
    try (TrainingGraph g = LoopFixtures.graph(m)) {
      Trainer t = LoopFixtures.trainer(g, data, N)
          .listener(new CheckpointListener(ckpt, EVERY))
          .listener(new TrainingListener() {
            @Override
            public void onStep(TrainingContext c, StepResult r) {
              if (r.step() == k) {
                throw new Killed(k);
              }
            }
          }).build();
      assertThrows(Killed.class, t::run);
    }
    long expectedStep = (k + 1) / EVERY * EVERY;
    assertEquals(expectedStep, Checkpoint.load(ckpt).step(), "k=" + k);

    try (TrainingGraph g = LoopFixtures.graph(m)) {
      CheckpointListener cl = new CheckpointListener(ckpt, EVERY);
      TrainingOutcome o = LoopFixtures.trainer(g, data, N).listener(cl).build().resume(ckpt);
      assertEquals(TrainingOutcome.Status.COMPLETED, o.status());
      assertEquals(expectedStep, o.startStep());
      assertEquals(N, o.completedSteps());
      LoopFixtures.assertSameBytes(refVars, g.variables());
      LoopFixtures.assertSameBytes(refSlots, g.slots());
      assertEquals(N, Checkpoint.load(ckpt).step());
    }
    assertEquals(java.util.List.of("run.ckpt"), LoopFixtures.files(dir));
  }

  @Test
  void resumeRefusesAnotherDataOrder(@TempDir Path dir) throws Exception {
    Model m = LoopFixtures.model();
    Path ckpt = dir.resolve("c.ckpt");
    try (TrainingGraph g = LoopFixtures.graph(m)) {
      LoopFixtures.trainer(g, BatchSource.of(LoopFixtures.batches(LoopFixtures.DATA_SEED)), 10)
          .totalSteps(5).listener(new CheckpointListener(ckpt, 5)).build().run();
    }
    try (TrainingGraph g = LoopFixtures.graph(m)) {
      Trainer other = Trainer.builder(g, LoopFixtures.batches(99)).totalSteps(10).build();
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> other.resume(ckpt));
      assertTrue(e.getMessage().contains("differs"), e.getMessage());
      Trainer seed = LoopFixtures.trainer(g,
          BatchSource.of(LoopFixtures.batches(LoopFixtures.DATA_SEED)), 10).dataSeed(12).build();
      assertThrows(IllegalStateException.class, () -> seed.resume(ckpt));
    }
  }
}
