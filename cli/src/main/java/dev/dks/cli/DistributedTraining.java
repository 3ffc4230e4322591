package dev.dks.cli;

import dev.dks.trainers.distributed.ClusterServer;
import dev.dks.trainers.distributed.ClusterSpec;
import dev.dks.trainers.distributed.ShardedBatches;
import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.loop.BatchSource;
import dev.dks.trainers.loop.TrainingContext;
import dev.dks.trainers.loop.TrainingListener;
import java.io.PrintWriter;
import org.tensorflow.Operand;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;

/**
 * What {@code dks train} does differently as one task of a cluster (issue 13): starts
 * the task's TF server, shards each global batch, syncs the replicas' state from the chief before
 * the first step (fresh or resumed), gives the chief alone the metrics file, checkpoints and
 * exports, and ends the process through a final barrier (TF servers cannot be stopped).
 */
final class DistributedTraining {
  /** Seconds the final barrier waits (the slowest task's last steps). */
  private static final float FINISH_TIMEOUT = 600;
  /** Milliseconds a task keeps its server up after the final barrier for peers to pull it. */
  private static final long LINGER_MS = 1000;

  private final ClusterServer server;
  private final float startupTimeout;
  private final float stepTimeout;

  private DistributedTraining(ClusterServer server, float startupTimeout, float stepTimeout) {
    this.server = server;
    this.startupTimeout = startupTimeout;
    this.stepTimeout = stepTimeout;
  }

  /**
   * Refuses, in one line, what a cluster cannot run: a global batch that does not split evenly,
   * this task's port in use. Cheap; the CLI calls it before loading anything.
   */
  static void check(ClusterSpec spec, int batch) {
    ShardedBatches.checkDivisible(batch, spec.size());
    spec.checkLocalPortFree();
  }

  /** Checks what only a cluster requires, then starts this task's server. */
  static DistributedTraining start(ClusterSpec spec, ConfigProto config, int batch,
      ClusterFlags flags, PrintWriter err) {
    check(spec, batch);
    ClusterServer server = ClusterServer.start(spec, config, flags.collectiveTimeout);
    err.println("distributed: task " + spec.taskType() + ":" + spec.taskIndex() + " (rank "
        + spec.rank() + " of " + spec.size() + (spec.isChief() ? ", chief" : "") + ") serving on "
        + spec.localAddress());
    err.flush();
    return new DistributedTraining(server, flags.startupTimeout, flags.collectiveTimeout);
  }

  ClusterServer server() {
    return server;
  }

  boolean isChief() {
    return server.spec().isChief();
  }

  /** This task's share of the global batches. */
  BatchSource shard(BatchSource global) {
    return new ShardedBatches(global, server.rank(), server.replicas());
  }

  /**
   * A listener that, before the first step, waits (up to the startup timeout) for every task and
   * then copies the chief's variables and optimizer slots to every replica.
   */
  TrainingListener startListener() {
    return new TrainingListener() {
      @Override
      public void onStart(TrainingContext context) {
        TrainingGraph tg = context.graph();
        Operand<TFloat32> all = server.barrier(Ops.create(tg.graph()), "startup",
            startupTimeout);
        try {
          tg.session().runner().fetch(all).run().close();
        } catch (TensorFlowException e) {
          throw new IllegalArgumentException("not every task of the cluster " + server.spec()
              .jobs() + " started within " + (int) startupTimeout + " s (--startup-timeout): "
              + firstLine(e), e);
        }
        tg.syncFromRank0();
      }
    };
  }

  /** Turns a failed collective into a one-line error naming the likely cause. */
  IllegalArgumentException peerFailure(TensorFlowException e) {
    return new IllegalArgumentException("distributed training stopped: a task of the cluster "
        + "failed, exited or did not answer within --collective-timeout " + (int) stepTimeout
        + " s (" + firstLine(e) + "); the chief's last checkpoint is intact: fix the task and "
        + "rerun every task with --resume", e);
  }

  /** Waits until every task has finished its steps. */
  void finish(TrainingGraph tg) {
    Operand<TFloat32> done = server.barrier(Ops.create(tg.graph()), "finished", FINISH_TIMEOUT);
    try {
      tg.session().runner().fetch(done).run().close();
    } catch (TensorFlowException e) {
      throw peerFailure(e);
    }
  }

  /** Keeps the server up briefly for peers still pulling the last chunks. */
  void linger() {
    try {
      Thread.sleep(LINGER_MS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** TF's reason without the "From /job:..." and gRPC detail lines, at most 300 characters. */
  static String firstLine(Throwable e) {
    String m = e.getMessage() == null ? e.toString() : e.getMessage();
    String r = m.lines().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("From /job")
        && !l.startsWith("Additional GRPC") && !l.startsWith(":{") && !l.startsWith("[["))
        .collect(java.util.stream.Collectors.joining(" "));
    return r.length() <= 300 ? r : r.substring(0, 297) + "...";
  }
}
