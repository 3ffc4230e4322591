package dev.dks.trainers.loop;

/**
 * Loss and accuracy on a held-out set after {@code step} completed steps.
 *
 * @param step completed training steps when it was evaluated
 * @param loss mean loss over the examples
 * @param accuracy fraction of examples classified correctly
 * @param examples how many examples were evaluated
 */
public record EvaluationResult(long step, double loss, double accuracy, int examples) {}
