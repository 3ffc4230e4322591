package dev.dks.trainers.loop;

import java.util.ArrayList;
import java.util.List;

/**
 * Keeps a run's learning curve in memory for comparisons between runs ({@link ComparisonPlot}):
 * per step its loss, its training accuracy and the cumulative wall time of the optimizer steps so
 * far (seconds, excluding evaluations and checkpoints, so runs compare by compute spent), and
 * every evaluation.
 */
public final class CurveRecorder implements TrainingListener {
  private final String name;
  private final List<double[]> steps = new ArrayList<>();
  private final List<double[]> evaluations = new ArrayList<>();
  private double seconds;

  /** A recorder for the run called {@code name} (the legend of its curve). */
  public CurveRecorder(String name) {
    this.name = name;
  }

  @Override
  public void onStep(TrainingContext context, StepResult r) {
    seconds += r.seconds();
    steps.add(new double[] {r.step() + 1, r.loss(), r.accuracy(), seconds});
  }

  @Override
  public void onEvaluation(TrainingContext context, EvaluationResult r) {
    evaluations.add(new double[] {r.step(), r.loss(), r.accuracy(), seconds});
  }

  /** The run's name. */
  public String name() {
    return name;
  }

  /** Rows {completed steps, loss, accuracy, cumulative step seconds}, one per step. */
  public List<double[]> steps() {
    return List.copyOf(steps);
  }

  /** Rows {completed steps, loss, accuracy, cumulative step seconds}, one per evaluation. */
  public List<double[]> evaluations() {
    return List.copyOf(evaluations);
  }

  /** Cumulative wall time of the steps, in seconds. */
  public double stepSeconds() {
    return seconds;
  }
}
