package dev.dks.trainers.distributed;

import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Server;
import org.tensorflow.Session;
import org.tensorflow.TargetSessions;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.ClusterDef;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.JobDef;
import org.tensorflow.proto.ServerDef;
import org.tensorflow.types.TFloat32;

/**
 * This process's task of a {@link ClusterSpec}: a running TF gRPC server (the standard
 * distributed runtime) and the {@link Replication} that makes a training graph one synchronous
 * data-parallel replica through collective all-reduce.
 *
 * <p><b>Why collectives, not a {@code ps} job.</b> Each task builds the same graph for its own
 * device and holds its own copy of the variables (between-graph replication, as
 * tf.distribute's MultiWorkerMirroredStrategy). One {@code CollectiveReduceV2} per step averages
 * the packed gradients (plus the loss and accuracy, so every replica reports the global batch's
 * values); every replica then applies the identical update to identical weights, so they stay
 * equal without ever shipping weights. The graph changes by one hook before the optimizer's
 * update ops; sessions stay local (device filters keep each master on its own task) and there is
 * no chief-side accumulator, token queue or variable placement to manage, as a synchronous
 * {@code ps} setup would need (SyncReplicasOptimizer's conditional accumulators). Traffic per step
 * is a ring all-reduce of the gradient bytes, which spreads evenly over the tasks instead of
 * converging on the parameter server.
 *
 * <p><b>Session config.</b> Device filters {@code [local task]}; the collective group leader is
 * rank 0 (chief:0 else worker:0), set both in the server's default session config (the
 * collective executor of the server reads it) and in the session's.
 *
 * <p><b>Timeouts.</b> Each collective carries {@code timeout_seconds}: a peer that never
 * arrives turns into a {@code DeadlineExceeded} on the others. {@link #barrier} is a tiny
 * collective to run once before the first step with its own (startup) deadline.
 *
 * <p><b>Shutdown.</b> TF Java 1.1.0's {@code Server.stop()} throws "Clean shutdown is not
 * currently implemented": a server lives as long as its process. {@link #close} therefore does
 * nothing; a distributed run ends its process (the CLI exits after its last step and a final
 * barrier, which keeps this task's server up until every peer has pulled its last chunks).
 */
public final class ClusterServer implements Replication, AutoCloseable {
  private final ClusterSpec spec;
  private final ConfigProto config;
  private final Server server;
  private final float stepTimeout;
  private int nextInstanceKey = 100;

  private ClusterServer(ClusterSpec spec, ConfigProto config, Server server, float stepTimeout) {
    this.spec = spec;
    this.config = config;
    this.server = server;
    this.stepTimeout = stepTimeout;
  }

  /**
   * Checks the local port, then starts this task's server.
   *
   * @param spec the cluster and this task
   * @param base session options to extend (threads, ...), or null
   * @param stepTimeoutSeconds how long a step's collective waits for its peers
   */
  public static ClusterServer start(ClusterSpec spec, ConfigProto base, float stepTimeoutSeconds) {
    spec.checkLocalPortFree();
    ConfigProto.Builder cb = base == null ? ConfigProto.newBuilder() : base.toBuilder();
    cb.clearDeviceFilters().addDeviceFilters(spec.localDevice());
    cb.setExperimental(cb.getExperimental().toBuilder()
        .setCollectiveGroupLeader(spec.leaderDevice()));
    ConfigProto config = cb.build();
    ClusterDef.Builder cluster = ClusterDef.newBuilder();
    spec.jobs().forEach((job, tasks) -> {
      JobDef.Builder jb = JobDef.newBuilder().setName(job);
      for (int i = 0; i < tasks.size(); i++) {
        jb.putTasks(i, tasks.get(i));
      }
      cluster.addJob(jb);
    });
    ServerDef def = ServerDef.newBuilder().setCluster(cluster).setJobName(spec.taskType())
        .setTaskIndex(spec.taskIndex()).setProtocol("grpc").setDefaultSessionConfig(config)
        .build();
    Server server;
    try {
      server = new Server(def);
      server.start();
    } catch (RuntimeException e) {
      throw new ClusterConfigException("task " + spec.taskType() + ":" + spec.taskIndex()
          + " could not start its TensorFlow server on " + spec.localAddress() + ": "
          + e.getMessage().lines().findFirst().orElse(""), e);
    }
    return new ClusterServer(spec, config, server, stepTimeoutSeconds);
  }

  /** The cluster. */
  public ClusterSpec spec() {
    return spec;
  }

  /** The session options sessions of this task use. */
  public ConfigProto sessionConfig() {
    return config;
  }

  @Override
  public int rank() {
    return spec.rank();
  }

  @Override
  public int replicas() {
    return spec.size();
  }

  @Override
  public List<Operand<TFloat32>> mean(Ops tf, List<? extends Operand<TFloat32>> values) {
    return CollectiveMean.mean(tf.withSubScope("replicas_mean"), values, replicas(),
        nextInstanceKey++, stepTimeout);
  }

  @Override
  public List<Operand<TFloat32>> fromRank0(Ops tf, List<? extends Operand<TFloat32>> values) {
    Ops scope = tf.withSubScope("from_rank0");
    List<Operand<TFloat32>> masked = new ArrayList<>();
    for (Operand<TFloat32> v : values) {
      masked.add(rank() == 0 ? scope.identity(v) : scope.zerosLike(v));
    }
    return CollectiveMean.sum(scope, masked, replicas(), nextInstanceKey++, stepTimeout);
  }

  /**
   * Emits a barrier: a one-element collective that completes once every task has run it, or
   * fails after {@code timeoutSeconds}. Returns the op's output (fetch it to pass the barrier).
   */
  public Operand<TFloat32> barrier(Ops tf, String name, float timeoutSeconds) {
    return CollectiveMean.sum(tf.withSubScope(name), List.of(tf.constant(new float[] {1f})),
        replicas(), nextInstanceKey++, timeoutSeconds).get(0);
  }

  @Override
  public Session openSession(Graph graph) {
    return TargetSessions.open(graph, spec.target(), config);
  }

  /** Nothing: TF Java cannot stop a server (see the class comment); the process must exit. */
  @Override
  public void close() {
    // Server.stop() throws TFUnimplementedException in TF 2.18; the server ends with the process
  }

  /** The server (kept reachable for as long as the process runs). */
  Server server() {
    return server;
  }
}
