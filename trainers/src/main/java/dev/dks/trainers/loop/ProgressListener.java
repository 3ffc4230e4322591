package dev.dks.trainers.loop;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A terminal progress bar (me.tongfei:progressbar) over the steps of the run, with the last
 * training loss and accuracy, steps per second since the run started, and the last evaluation.
 * A resumed run's bar starts at its start step. On divergence it prints the report's message
 * below the bar. Writes to standard error unless given another stream.
 */
public final class ProgressListener implements TrainingListener {
  private final PrintStream out;
  private final String task;
  private ProgressBar bar;
  private long t0;
  private EvaluationResult lastEval;

  /** A bar named "train" on standard error. */
  public ProgressListener() {
    this(System.err, "train");
  }

  /** A bar named {@code task} on {@code out}. */
  public ProgressListener(PrintStream out, String task) {
    this.out = Objects.requireNonNull(out, "out");
    this.task = Objects.requireNonNull(task, "task");
  }

  @Override
  public void onStart(TrainingContext context) {
    t0 = System.nanoTime();
    lastEval = null;
    bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(context.totalSteps())
        .startsFrom(context.startStep(), Duration.ZERO).setStyle(ProgressBarStyle.ASCII)
        .setUpdateIntervalMillis(250).setConsumer(new ConsoleProgressBarConsumer(out))
        .build();
  }

  @Override
  public void onStep(TrainingContext context, StepResult r) {
    if (bar == null) {
      return;
    }
    double elapsed = (System.nanoTime() - t0) * 1e-9;
    long done = r.step() + 1 - context.startStep();
    String msg = String.format(Locale.ROOT, "loss %.4f acc %.3f %.1f steps/s", r.loss(),
        r.accuracy(), elapsed > 0 ? done / elapsed : 0.0);
    if (lastEval != null) {
      msg += String.format(Locale.ROOT, " | val loss %.4f acc %.3f", lastEval.loss(),
          lastEval.accuracy());
    }
    bar.stepTo(r.step() + 1);
    bar.setExtraMessage(msg);
  }

  @Override
  public void onEvaluation(TrainingContext context, EvaluationResult r) {
    lastEval = r;
  }

  @Override
  public void onDivergence(TrainingContext context, DivergenceReport report) {
    close();
    out.println(report.message());
  }

  @Override
  public void onEnd(TrainingContext context, TrainingOutcome outcome) {
    close();
  }

  private void close() {
    if (bar != null) {
      bar.close();
      bar = null;
    }
  }
}
