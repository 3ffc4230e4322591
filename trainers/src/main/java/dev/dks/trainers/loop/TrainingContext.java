package dev.dks.trainers.loop;

import dev.dks.trainers.data.Dataset;
import dev.dks.trainers.graph.TrainingGraph;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What a {@link TrainingListener} sees of a running {@link Trainer}, and the ways it can act on
 * the run: report an evaluation to the other listeners, record a checkpoint, stop the run or
 * declare it diverged. One context per {@link Trainer#run}; used on the training thread only.
 */
public interface TrainingContext {

  /** The training graph (its session holds the current variables). */
  TrainingGraph graph();

  /** The training batches (a pure function of the step). */
  BatchSource batches();

  /** The validation set given to the trainer, if any. */
  Optional<Dataset> validation();

  /** The seed of the training data order, if the trainer was told it. */
  OptionalLong dataSeed();

  /** The step this run started from. */
  long startStep();

  /** The step count at which the run ends (exclusive). */
  long totalSteps();

  /** Steps completed so far (the next step to run). */
  long completedSteps();

  /** Tells every listener about an evaluation (its {@code onEvaluation}). */
  void reportEvaluation(EvaluationResult result);

  /** Records that a good checkpoint after {@code step} completed steps was written to {@code path}. */
  void recordCheckpoint(Path path, long step);

  /** The last good checkpoint recorded (in this run, or the one resumed from). */
  Optional<Path> lastCheckpoint();

  /** The step of {@link #lastCheckpoint()}, or -1. */
  long lastCheckpointStep();

  /** Asks the trainer to stop after the current step (listeners still see that step). */
  void requestStop(String reason);

  /** Stops the run as diverged after the current step; listeners get {@code onDivergence}. */
  void reportDivergence(DivergenceReport report);

  /** Whether the run has been declared diverged. */
  boolean diverged();
}
