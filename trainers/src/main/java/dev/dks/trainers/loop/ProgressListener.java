package dev.dks.trainers.loop;

import dev.dks.rewriter.console.Terminals;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress over the steps of the run, with the last training loss and accuracy, steps per second
 * since the run started, and the last evaluation. Two forms:
 *
 * <ul>
 *   <li>{@link Mode#BAR}: a redrawing terminal bar (me.tongfei:progressbar), for a terminal;
 *   <li>{@link Mode#LINES}: one plain line ({@code task  30% 150/500 loss ... steps/s}) each time
 *       the run passes a tenth of its steps, and at least every {@code interval} in between, for
 *       files, pipes and CI logs (no carriage returns).
 * </ul>
 *
 * {@link Mode#AUTO} (the default) picks the bar only when the stream is the process's standard
 * error and that is a terminal ({@link Terminals}); the environment variable {@code
 * DKS_PROGRESS=bar|lines} overrides it. A resumed run starts at its start step. On divergence it
 * prints the report's message after the progress.
 */
public final class ProgressListener implements TrainingListener {
  /** How progress is written. */
  public enum Mode {
    /** A redrawing bar. */
    BAR,
    /** Plain lines at each tenth of the run (and every interval). */
    LINES,
    /** BAR on a terminal standard error, otherwise LINES. */
    AUTO
  }

  /** The default longest gap between two plain lines. */
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(60);

  private final PrintStream out;
  private final String task;
  private final Mode mode;
  private final long intervalNanos;
  private ProgressBar bar;
  private long t0;
  private long lastLineNanos;
  private int lastTenth;
  private long lastReported;
  private long total;
  private long start;
  private String lastMessage;
  private EvaluationResult lastEval;

  /** Progress named "train" on standard error, in the {@link Mode#AUTO} form. */
  public ProgressListener() {
    this(System.err, "train");
  }

  /** Progress named {@code task} on {@code out}, in the {@link Mode#AUTO} form. */
  public ProgressListener(PrintStream out, String task) {
    this(out, task, Mode.AUTO, DEFAULT_INTERVAL);
  }

  /** Progress named {@code task} on {@code out} in the given form. */
  public ProgressListener(PrintStream out, String task, Mode mode, Duration interval) {
    this.out = Objects.requireNonNull(out, "out");
    this.task = Objects.requireNonNull(task, "task");
    this.mode = resolve(Objects.requireNonNull(mode, "mode"), out);
    this.intervalNanos = interval.toNanos();
  }

  /** The form this listener writes in ({@link Mode#BAR} or {@link Mode#LINES}). */
  public Mode mode() {
    return mode;
  }

  private static Mode resolve(Mode mode, PrintStream out) {
    if (mode != Mode.AUTO) {
      return mode;
    }
    String forced = System.getenv("DKS_PROGRESS");
    if ("bar".equalsIgnoreCase(forced)) {
      return Mode.BAR;
    }
    if ("lines".equalsIgnoreCase(forced)) {
      return Mode.LINES;
    }
    return out == System.err && Terminals.stderrIsTerminal() ? Mode.BAR : Mode.LINES;
  }

  @Override
  public void onStart(TrainingContext context) {
    t0 = System.nanoTime();
    lastLineNanos = t0;
    lastEval = null;
    lastMessage = null;
    total = context.totalSteps();
    start = context.startStep();
    lastReported = start;
    lastTenth = tenth(start);
    if (mode == Mode.BAR) {
      bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total)
          .startsFrom(start, Duration.ZERO).setStyle(ProgressBarStyle.ASCII)
          .setUpdateIntervalMillis(250).setConsumer(new ConsoleProgressBarConsumer(out))
          .build();
    }
  }

  private int tenth(long done) {
    return total <= 0 ? 10 : (int) Math.min(10, 10 * done / total);
  }

  @Override
  public void onStep(TrainingContext context, StepResult r) {
    long now = System.nanoTime();
    double elapsed = (now - t0) * 1e-9;
    long done = r.step() + 1;
    String msg = String.format(Locale.ROOT, "loss %.4f acc %.3f %.1f steps/s", r.loss(),
        r.accuracy(), elapsed > 0 ? (done - start) / elapsed : 0.0);
    if (lastEval != null) {
      msg += String.format(Locale.ROOT, " | val loss %.4f acc %.3f", lastEval.loss(),
          lastEval.accuracy());
    }
    lastMessage = msg;
    if (mode == Mode.BAR) {
      if (bar != null) {
        bar.stepTo(done);
        bar.setExtraMessage(msg);
      }
      return;
    }
    int tenth = tenth(done);
    if (tenth > lastTenth || now - lastLineNanos >= intervalNanos) {
      line(done, msg);
      lastTenth = tenth;
      lastLineNanos = now;
    }
  }

  private void line(long done, String msg) {
    long pct = total <= 0 ? 100 : 100 * done / total;
    out.printf(Locale.ROOT, "%s %3d%% %d/%d %s%n", task, pct, done, total, msg);
    out.flush();
    lastReported = done;
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
    if (mode == Mode.LINES && lastMessage != null
        && outcome.completedSteps() > lastReported) {
      line(outcome.completedSteps(), lastMessage);
    }
    close();
  }

  private void close() {
    if (bar != null) {
      bar.close();
      bar = null;
    }
  }
}
