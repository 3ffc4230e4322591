package dev.dks.trainers.loop;

import dev.dks.trainers.data.Batch;
import dev.dks.trainers.data.BatchIterator;
import dev.dks.trainers.data.Dataset;
import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.optim.LearningRateSchedule;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Runs the optimizer steps of a {@link TrainingGraph}: step {@code s} trains on
 * {@code batches.batchAt(s)} with learning rate {@code schedule.at(s)} and the fixed momentum,
 * for {@code s} from the start step up to {@code totalSteps} (exclusive), after the optimizer's
 * burn-in on the first batches when a run starts at step 0 (K-FAC's curvature burn-in; nothing
 * for SGD). Everything else —
 * progress, metrics, evaluation, checkpoints, stopping on divergence — is a
 * {@link TrainingListener}, composed through the {@link Builder}:
 *
 * <pre>{@code
 * Trainer t = Trainer.builder(graph, BatchSource.of(batches))
 *     .schedule(LearningRateSchedule.cosineWithWarmup(0.1, 100, 5000)).momentum(0.9)
 *     .totalSteps(5000).validation(validationSet)
 *     .listener(new DivergenceGuard())            // first: later listeners see the verdict
 *     .listener(new CheckpointListener(dir.resolve("ckpt"), 500))
 *     .listener(new EvaluationListener(500, 256))
 *     .listener(new JsonLinesListener(dir.resolve("metrics.jsonl")))
 *     .listener(new ProgressListener())
 *     .build();
 * TrainingOutcome o = t.run();                     // or t.resume(dir.resolve("ckpt"))
 * }</pre>
 *
 * <p>The trainer does not own the graph (the caller closes it). Because the batches and the
 * learning rate are pure functions of the step and {@link #resume} restores variables and
 * optimizer slots bit-exactly, a resumed run computes exactly what an uninterrupted one would
 * (on a deterministic device such as the CPU).
 */
public final class Trainer {
  private final TrainingGraph graph;
  private final BatchSource batches;
  private final Dataset validation;
  private final LearningRateSchedule schedule;
  private final double momentum;
  private final long totalSteps;
  private final OptionalLong dataSeed;
  private final List<TrainingListener> listeners;

  private Trainer(Builder b) {
    this.graph = b.graph;
    this.batches = b.batches;
    this.validation = b.validation;
    this.schedule = b.schedule;
    this.momentum = b.momentum;
    this.totalSteps = b.totalSteps;
    this.dataSeed = b.dataSeed;
    this.listeners = List.copyOf(b.listeners);
  }

  /** A builder for training {@code graph} on {@code batches}. */
  public static Builder builder(TrainingGraph graph, BatchSource batches) {
    return new Builder(graph, batches);
  }

  /** A builder for training {@code graph} on {@code batches}. */
  public static Builder builder(TrainingGraph graph, BatchIterator batches) {
    return new Builder(graph, BatchSource.of(batches));
  }

  /** Options of a {@link Trainer}. Required: the graph, the batches and {@link #totalSteps}. */
  public static final class Builder {
    private final TrainingGraph graph;
    private final BatchSource batches;
    private Dataset validation;
    private LearningRateSchedule schedule = LearningRateSchedule.constant(0.01);
    private double momentum = 0.9;
    private long totalSteps = -1;
    private OptionalLong dataSeed = OptionalLong.empty();
    private final List<TrainingListener> listeners = new ArrayList<>();

    private Builder(TrainingGraph graph, BatchSource batches) {
      this.graph = Objects.requireNonNull(graph, "graph");
      this.batches = Objects.requireNonNull(batches, "batches");
    }

    /** The held-out set {@link EvaluationListener} uses by default. */
    public Builder validation(Dataset v) {
      validation = v;
      return this;
    }

    /** The learning rate schedule (default constant 0.01). */
    public Builder schedule(LearningRateSchedule s) {
      schedule = Objects.requireNonNull(s, "schedule");
      return this;
    }

    /** The momentum fed every step (default 0.9; ignored by plain SGD). */
    public Builder momentum(double mu) {
      if (!Double.isFinite(mu)) {
        throw new IllegalArgumentException("momentum must be finite: " + mu);
      }
      momentum = mu;
      return this;
    }

    /** The step count at which runs end (exclusive), &gt;= 0. */
    public Builder totalSteps(long n) {
      if (n < 0) {
        throw new IllegalArgumentException("total steps must be >= 0: " + n);
      }
      totalSteps = n;
      return this;
    }

    /**
     * The seed of the data order, recorded in checkpoints and checked on resume (optional: the
     * data fingerprint is always checked).
     */
    public Builder dataSeed(long seed) {
      dataSeed = OptionalLong.of(seed);
      return this;
    }

    /** Adds a listener; listeners are called in the order added. */
    public Builder listener(TrainingListener l) {
      listeners.add(Objects.requireNonNull(l, "listener"));
      return this;
    }

    /** The trainer. */
    public Trainer build() {
      if (totalSteps < 0) {
        throw new IllegalStateException("totalSteps was not set");
      }
      return new Trainer(this);
    }
  }

  /** Runs from step 0 with the graph's current variables. */
  public TrainingOutcome run() {
    return run(0);
  }

  /**
   * Runs steps {@code fromStep .. totalSteps-1} with the graph's current variables and slots
   * (which the caller has set to the state after {@code fromStep} steps, as {@link #resume}
   * does).
   *
   * @throws RuntimeException whatever a step or a listener threw, after every listener's
   *     {@code onEnd} saw a {@link TrainingOutcome.Status#FAILED} outcome
   */
  public TrainingOutcome run(long fromStep) {
    return run(fromStep, null, -1);
  }

  /**
   * Restores the checkpoint at {@code checkpoint} (variables, optimizer slots, step) into the
   * graph and continues from its step. Refuses a checkpoint whose data seed (when both are known)
   * or data fingerprint differs from this trainer's batches: it would not continue the same run.
   */
  public TrainingOutcome resume(Path checkpoint) throws IOException {
    Checkpoint c = Checkpoint.load(checkpoint);
    if (c.dataSeed().isPresent() && dataSeed.isPresent()
        && c.dataSeed().getAsLong() != dataSeed.getAsLong()) {
      throw new IllegalStateException(checkpoint + " was written with data seed "
          + c.dataSeed().getAsLong() + ", this trainer uses " + dataSeed.getAsLong());
    }
    long fp = Checkpoint.fingerprint(batches.globalBatchAt(c.step()));
    if (fp != c.dataFingerprint()) {
      throw new IllegalStateException(checkpoint + ": the batch of step " + c.step()
          + " differs from the one the checkpointed run would use (different data, seed or "
          + "batch size)");
    }
    graph.assign(c.variables());
    graph.assign(c.slots());
    return run(c.step(), checkpoint, c.step());
  }

  /** The total step count. */
  public long totalSteps() {
    return totalSteps;
  }

  /** The listeners, in call order. */
  public List<TrainingListener> listeners() {
    return listeners;
  }

  private TrainingOutcome run(long fromStep, Path resumedFrom, long resumedStep) {
    if (fromStep < 0) {
      throw new IllegalArgumentException("start step must be >= 0: " + fromStep);
    }
    Context ctx = new Context(fromStep, resumedFrom, resumedStep);
    List<TrainingListener> started = new ArrayList<>();
    TrainingOutcome outcome = null;
    Throwable failure = null;
    try {
      for (TrainingListener l : listeners) {
        started.add(l);
        l.onStart(ctx);
      }
      if (fromStep == 0 && graph.burnInBatches() > 0) {
        List<Batch> burnIn = new ArrayList<>();
        for (int i = 0; i < graph.burnInBatches(); i++) {
          burnIn.add(batches.batchAt(i));
        }
        graph.burnIn(burnIn);
      }
      for (long step = fromStep; step < totalSteps; step++) {
        Batch b = batches.batchAt(step);
        double lr = schedule.at(step);
        long t0 = System.nanoTime();
        double[] la = graph.step(step, b.images(), new long[] {b.size(), b.h(), b.w(), b.c()},
            b.oneHot(), lr, momentum);
        double seconds = (System.nanoTime() - t0) * 1e-9;
        StepResult r = new StepResult(step, b.epoch(), la[0], la[1], lr, seconds);
        ctx.completed = step + 1;
        ctx.lastStep = r;
        for (TrainingListener l : listeners) {
          l.onStep(ctx, r);
        }
        if (ctx.divergence != null) {
          for (TrainingListener l : listeners) {
            l.onDivergence(ctx, ctx.divergence);
          }
          break;
        }
        if (ctx.stopReason != null) {
          break;
        }
      }
      TrainingOutcome.Status status = ctx.divergence != null ? TrainingOutcome.Status.DIVERGED
          : ctx.stopReason != null ? TrainingOutcome.Status.STOPPED
          : TrainingOutcome.Status.COMPLETED;
      outcome = ctx.outcome(status);
      return outcome;
    } catch (RuntimeException | Error e) {
      failure = e;
      outcome = ctx.outcome(TrainingOutcome.Status.FAILED);
      throw e;
    } finally {
      for (TrainingListener l : started) {
        try {
          l.onEnd(ctx, outcome);
        } catch (RuntimeException e) {
          if (failure != null) {
            failure.addSuppressed(e);
          } else {
            failure = e;
            throw e;
          }
        }
      }
    }
  }

  /** The context of one run. */
  private final class Context implements TrainingContext {
    private final long start;
    private long completed;
    private StepResult lastStep;
    private EvaluationResult lastEvaluation;
    private DivergenceReport divergence;
    private String stopReason;
    private Path checkpoint;
    private long checkpointStep;

    Context(long start, Path resumedFrom, long resumedStep) {
      this.start = start;
      this.completed = start;
      this.checkpoint = resumedFrom;
      this.checkpointStep = resumedStep;
    }

    TrainingOutcome outcome(TrainingOutcome.Status status) {
      return new TrainingOutcome(status, start, completed, lastStep, lastEvaluation, divergence,
          stopReason);
    }

    @Override
    public TrainingGraph graph() {
      return graph;
    }

    @Override
    public BatchSource batches() {
      return batches;
    }

    @Override
    public Optional<Dataset> validation() {
      return Optional.ofNullable(validation);
    }

    @Override
    public OptionalLong dataSeed() {
      return dataSeed;
    }

    @Override
    public long startStep() {
      return start;
    }

    @Override
    public long totalSteps() {
      return totalSteps;
    }

    @Override
    public long completedSteps() {
      return completed;
    }

    @Override
    public void reportEvaluation(EvaluationResult result) {
      lastEvaluation = Objects.requireNonNull(result, "result");
      for (TrainingListener l : listeners) {
        l.onEvaluation(this, result);
      }
    }

    @Override
    public void recordCheckpoint(Path path, long step) {
      checkpoint = Objects.requireNonNull(path, "path");
      checkpointStep = step;
    }

    @Override
    public Optional<Path> lastCheckpoint() {
      return Optional.ofNullable(checkpoint);
    }

    @Override
    public long lastCheckpointStep() {
      return checkpoint == null ? -1 : checkpointStep;
    }

    @Override
    public void requestStop(String reason) {
      if (stopReason == null) {
        stopReason = Objects.requireNonNull(reason, "reason");
      }
    }

    @Override
    public void reportDivergence(DivergenceReport report) {
      if (divergence == null) {
        divergence = Objects.requireNonNull(report, "report");
      }
    }

    @Override
    public boolean diverged() {
      return divergence != null;
    }
  }
}
