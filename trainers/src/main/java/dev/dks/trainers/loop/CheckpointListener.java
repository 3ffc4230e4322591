package dev.dks.trainers.loop;

import dev.dks.rewriter.model.TensorProtos;
import dev.dks.trainers.graph.TrainingGraph;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

/**
 * Every {@code every} steps (and at the end of a completed run) writes a {@link Checkpoint} of the
 * graph's variables, optimizer slots, completed steps and data identity to one file, atomically
 * (see {@link Checkpoint#writeAtomically}), replacing the previous one only once the new one is
 * complete.
 *
 * <p>It never replaces a good checkpoint with a bad one: it writes nothing after a step whose
 * loss was not finite, after the run was declared diverged, or when any variable or slot holds a
 * NaN or infinity, whatever the order of the listeners. A failed write ends the run with an
 * {@link UncheckedIOException}, leaving the previous checkpoint intact.
 */
public final class CheckpointListener implements TrainingListener {
  private final Path path;
  private final long every;
  private UnaryOperator<OutputStream> streamFilter = UnaryOperator.identity();
  private long lastWritten = -1;
  private int skipped;

  /**
   * Checkpoints to {@code path} every {@code every} steps.
   *
   * @param path the checkpoint file (its directory is created if needed)
   * @param every steps between checkpoints, positive
   */
  public CheckpointListener(Path path, long every) {
    this.path = Objects.requireNonNull(path, "path");
    if (every <= 0) {
      throw new IllegalArgumentException("checkpoint interval must be positive: " + every);
    }
    this.every = every;
  }

  /** For tests: wraps the file stream of every write (e.g. to inject a failure). */
  CheckpointListener withStreamFilter(UnaryOperator<OutputStream> filter) {
    this.streamFilter = Objects.requireNonNull(filter, "filter");
    return this;
  }

  /** The checkpoint file. */
  public Path path() {
    return path;
  }

  /** The completed-step count of the last checkpoint this listener wrote, or -1. */
  public long lastWrittenStep() {
    return lastWritten;
  }

  /** How many due checkpoints were skipped because the state was not finite. */
  public int skipped() {
    return skipped;
  }

  @Override
  public void onStep(TrainingContext context, StepResult result) {
    long done = result.step() + 1;
    if (done % every == 0) {
      maybeWrite(context, result.finite(), done);
    }
  }

  @Override
  public void onEnd(TrainingContext context, TrainingOutcome outcome) {
    if (outcome != null && outcome.status() == TrainingOutcome.Status.COMPLETED
        && outcome.completedSteps() != lastWritten
        && outcome.completedSteps() > outcome.startStep()) {
      maybeWrite(context, outcome.lastStep() == null || outcome.lastStep().finite(),
          outcome.completedSteps());
    }
  }

  private void maybeWrite(TrainingContext context, boolean lossFinite, long step) {
    if (!lossFinite || context.diverged()) {
      skipped++;
      return;
    }
    TrainingGraph g = context.graph();
    Map<String, TensorProto> vars = g.variables();
    Map<String, TensorProto> slots = g.slots();
    if (!allFinite(vars) || !allFinite(slots)) {
      skipped++;
      return;
    }
    Checkpoint c = new Checkpoint(step, context.dataSeed(),
        Checkpoint.fingerprint(context.batches().globalBatchAt(step)), vars, slots);
    try {
      Checkpoint.writeAtomically(path, out -> c.writeTo(streamFilter.apply(out)));
    } catch (IOException e) {
      throw new UncheckedIOException("could not write checkpoint " + path + " at step " + step
          + " (the previous checkpoint is intact)", e);
    }
    lastWritten = step;
    context.recordCheckpoint(path, step);
  }

  /** Whether every float32 value of every tensor is finite. */
  static boolean allFinite(Map<String, TensorProto> tensors) {
    for (TensorProto t : tensors.values()) {
      if (nonFinite(t) > 0) {
        return false;
      }
    }
    return true;
  }

  /** The number of NaN or infinite values of a float32 tensor (0 for other types). */
  static long nonFinite(TensorProto t) {
    if (t.getDtype() != DataType.DT_FLOAT) {
      return 0;
    }
    long n = 0;
    for (float v : TensorProtos.floats(t)) {
      if (!Float.isFinite(v)) {
        n++;
      }
    }
    return n;
  }
}
