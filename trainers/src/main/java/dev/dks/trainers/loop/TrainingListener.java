package dev.dks.trainers.loop;

/**
 * A side effect of training (progress, metrics, evaluation, checkpoints, guards), composed into a
 * {@link Trainer} in the style of DJL's {@code TrainingListener}. Every method has an empty
 * default. Listeners are called on the training thread, in the order they were added; an
 * exception from a listener ends the run (and is rethrown by {@link Trainer#run}) after every
 * listener's {@link #onEnd} has been called.
 */
public interface TrainingListener {

  /** Before the first step of a run (also of a resumed run: see {@link TrainingContext#startStep}). */
  default void onStart(TrainingContext context) {}

  /** After each optimizer step. */
  default void onStep(TrainingContext context, StepResult result) {}

  /** After an evaluation was reported through {@link TrainingContext#reportEvaluation}. */
  default void onEvaluation(TrainingContext context, EvaluationResult result) {}

  /** When the run stops because of divergence, before {@link #onEnd}. */
  default void onDivergence(TrainingContext context, DivergenceReport report) {}

  /** After the last step, however the run ended (always called once per {@link #onStart}). */
  default void onEnd(TrainingContext context, TrainingOutcome outcome) {}
}
