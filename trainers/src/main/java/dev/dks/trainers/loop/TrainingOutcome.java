package dev.dks.trainers.loop;

import java.util.Optional;

/**
 * How a {@link Trainer#run} ended.
 *
 * @param status why it ended
 * @param startStep the step it started from (0, or the resumed checkpoint's step)
 * @param completedSteps steps completed when it ended (the next step to run), counted from 0
 * @param lastStep the last step's result, or null when no step ran
 * @param lastEvaluation the last evaluation, or null
 * @param divergence the divergence report when {@code status == DIVERGED}, else null
 * @param stopReason the reason a listener gave when {@code status == STOPPED}, else null
 */
public record TrainingOutcome(Status status, long startStep, long completedSteps,
    StepResult lastStep, EvaluationResult lastEvaluation, DivergenceReport divergence,
    String stopReason) {

  /** Why a run ended. */
  public enum Status {
    /** Every step up to the total ran. */
    COMPLETED,
    /** A {@link DivergenceGuard} stopped it. */
    DIVERGED,
    /** A listener asked it to stop. */
    STOPPED,
    /** An exception ended it (seen by listeners' {@code onEnd}; {@code run} rethrows it). */
    FAILED
  }

  /** The divergence report, if the run diverged. */
  public Optional<DivergenceReport> divergenceReport() {
    return Optional.ofNullable(divergence);
  }
}
