package dev.dks.trainers.loop;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TString;
import org.tensorflow.types.family.TType;

/**
 * Writes TensorBoard event files through TensorFlow's own summary ops, so TensorBoard reads them
 * as it reads files written by TF in Python.
 *
 * <p>The ops live in a small dedicated {@link Graph} and {@link Session}, never in the training
 * graph: a {@code SummaryWriter} resource, created once per run by
 * {@code CreateSummaryFileWriter(writer, logdir, max_queue, flush_millis, filename_suffix)}; a
 * {@code WriteScalarSummary(writer, step, tag, value)} whose step, tag and value are placeholders
 * fed per scalar; {@code FlushSummaryWriter} after every evaluation and at the end; and
 * {@code CloseSummaryWriter} at the end, after which the session and graph are closed.
 *
 * <p>Scalars: {@code train/loss}, {@code train/accuracy} and {@code train/lr} every step (at the
 * 0-based step of {@link StepResult#step()}), and {@code eval/loss}, {@code eval/accuracy} per
 * evaluation (at {@link EvaluationResult#step()}, the completed steps). Values are written as
 * float32; non-finite values are written as they are (TensorBoard shows them as gaps). Every run
 * (also a resumed one) writes a new {@code events.out.tfevents.*} file in the log directory;
 * TensorBoard merges the files of a directory.
 */
public final class TensorBoardListener implements TrainingListener {
  /** Default events the writer queues before it writes them to disk. */
  public static final int DEFAULT_MAX_QUEUE = 10;
  /** Default interval of the writer's own periodic flush, in milliseconds. */
  public static final int DEFAULT_FLUSH_MILLIS = 5_000;

  private final Path logDir;
  private final int maxQueue;
  private final int flushMillis;
  private final String filenameSuffix;

  private Graph graph;
  private Session session;
  private Placeholder<TInt64> stepIn;
  private Placeholder<TString> tagIn;
  private Placeholder<TFloat32> valueIn;
  private Op write;
  private Op flush;
  private Op close;

  /** Writes to {@code logDir} (created if needed) with the default queue and flush interval. */
  public TensorBoardListener(Path logDir) {
    this(logDir, DEFAULT_MAX_QUEUE, DEFAULT_FLUSH_MILLIS, ".v2");
  }

  /**
   * Writes to {@code logDir} with the given writer settings.
   *
   * @param maxQueue events queued before the writer writes them (at least 1)
   * @param flushMillis the writer's periodic flush interval in milliseconds (at least 1)
   * @param filenameSuffix appended to the event file's name (may be empty)
   */
  public TensorBoardListener(Path logDir, int maxQueue, int flushMillis, String filenameSuffix) {
    this.logDir = Objects.requireNonNull(logDir, "logDir");
    if (maxQueue < 1 || flushMillis < 1) {
      throw new IllegalArgumentException("maxQueue and flushMillis must be positive");
    }
    this.maxQueue = maxQueue;
    this.flushMillis = flushMillis;
    this.filenameSuffix = Objects.requireNonNull(filenameSuffix, "filenameSuffix");
  }

  /** The log directory. */
  public Path logDir() {
    return logDir;
  }

  @Override
  public void onStart(TrainingContext context) {
    closeQuietly(); // a listener reused for a second run
    try {
      Files.createDirectories(logDir.toAbsolutePath());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + logDir, e);
    }
    Graph g = new Graph();
    Session s = null;
    try {
      Ops tf = Ops.create(g);
      Operand<? extends TType> writer = tf.withName("writer").summary.summaryWriter();
      Op create = tf.withName("create_writer").summary.createSummaryFileWriter(writer,
          tf.constant(logDir.toAbsolutePath().toString()), tf.constant(maxQueue),
          tf.constant(flushMillis), tf.constant(filenameSuffix));
      stepIn = tf.withName("step").placeholder(TInt64.class);
      tagIn = tf.withName("tag").placeholder(TString.class);
      valueIn = tf.withName("value").placeholder(TFloat32.class);
      write = tf.withName("write_scalar").summary.writeScalarSummary(writer, stepIn, tagIn,
          valueIn);
      flush = tf.withName("flush").summary.flushSummaryWriter(writer);
      close = tf.withName("close").summary.closeSummaryWriter(writer);
      s = new Session(g);
      run(s, create);
      graph = g;
      session = s;
    } catch (RuntimeException e) {
      if (s != null) {
        s.close();
      }
      g.close();
      throw e;
    }
  }

  @Override
  public void onStep(TrainingContext context, StepResult r) {
    scalar("train/loss", r.step(), r.loss());
    scalar("train/accuracy", r.step(), r.accuracy());
    scalar("train/lr", r.step(), r.learningRate());
  }

  @Override
  public void onEvaluation(TrainingContext context, EvaluationResult r) {
    scalar("eval/loss", r.step(), r.loss());
    scalar("eval/accuracy", r.step(), r.accuracy());
    requireOpen();
    run(session, flush);
  }

  @Override
  public void onEnd(TrainingContext context, TrainingOutcome outcome) {
    if (session == null) {
      return;
    }
    try {
      run(session, flush);
      run(session, close);
    } finally {
      closeQuietly();
    }
  }

  /** Writes one scalar; public so other listeners' values can go to the same file. */
  public void scalar(String tag, long step, double value) {
    requireOpen();
    try (TInt64 st = TInt64.scalarOf(step);
        TString tg = TString.scalarOf(tag);
        TFloat32 v = TFloat32.scalarOf((float) value);
        Result ignored = session.runner().feed(stepIn, st).feed(tagIn, tg).feed(valueIn, v)
            .addTarget(write).run()) {
      // written by the op
    }
  }

  private void requireOpen() {
    if (session == null) {
      throw new IllegalStateException("TensorBoardListener used outside a run");
    }
  }

  private static void run(Session s, Op target) {
    try (Result ignored = s.runner().addTarget(target).run()) {
      // side effect only
    }
  }

  private void closeQuietly() {
    if (session != null) {
      session.close();
      session = null;
    }
    if (graph != null) {
      graph.close();
      graph = null;
    }
  }
}
