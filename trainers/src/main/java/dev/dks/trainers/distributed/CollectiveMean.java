package dev.dks.trainers.distributed;

import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.OperationBuilder;
import org.tensorflow.Output;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Averages float32 tensors across the tasks of a cluster with TF's collective all-reduce
 * ({@code CollectiveReduceV2}, merge {@code Add}, final {@code Div}), emitted into each task's own
 * graph (between-graph replication). Every task must emit the same call with the same keys and
 * tensor shapes, and run it in the same steps; TF then exchanges the values over gRPC (ring
 * all-reduce between the tasks' CPU devices).
 *
 * <p>The tensors are packed into one flat vector (reshape to {@code [-1]}, concat), reduced by
 * <b>one</b> collective, and unpacked to their static shapes: one collective per step instead of one
 * per variable, so the per-step latency of the exchange is paid once. Shapes must be fully known.
 *
 * <p>Floating point: each element of the result is {@code (x_0 + x_1 + ... + x_{n-1}) / n} summed
 * in an order TF's ring chooses, so with 2 tasks it equals the mean exactly up to one rounding,
 * and in general agrees with a one-process mean to float32 rounding (relative ~1e-7 per sum).
 *
 * <p>Timeouts: {@code timeoutSeconds > 0} makes a collective whose peers do not all arrive fail
 * with {@code DeadlineExceeded} instead of waiting forever (a worker that died or never started).
 */
public final class CollectiveMean {
  /** The group key all of dks-java's collectives use (one group: every task of the cluster). */
  public static final int GROUP_KEY = 1;

  private CollectiveMean() {}

  /**
   * Emits the mean of {@code tensors} across {@code groupSize} tasks.
   *
   * @param tf ops in the scope where to emit (device of the local task)
   * @param tensors float32 tensors with fully known shapes
   * @param groupSize number of tasks taking part
   * @param instanceKey unique among this graph's collectives, the same on every task
   * @param timeoutSeconds fail after this many seconds without all peers (0: wait forever)
   * @return the averaged tensors, same order and shapes
   */
  public static List<Operand<TFloat32>> mean(Ops tf, List<? extends Operand<TFloat32>> tensors,
      int groupSize, int instanceKey, float timeoutSeconds) {
    return reduce(tf, tensors, groupSize, instanceKey, timeoutSeconds, "Div");
  }

  /**
   * Emits the element-wise sum of {@code tensors} across {@code groupSize} tasks (same contract as
   * {@link #mean}); with zeros on every task but one it copies that task's values bit-exactly.
   */
  public static List<Operand<TFloat32>> sum(Ops tf, List<? extends Operand<TFloat32>> tensors,
      int groupSize, int instanceKey, float timeoutSeconds) {
    return reduce(tf, tensors, groupSize, instanceKey, timeoutSeconds, "Id");
  }

  private static List<Operand<TFloat32>> reduce(Ops tf, List<? extends Operand<TFloat32>> tensors,
      int groupSize, int instanceKey, float timeoutSeconds, String finalOp) {
    if (tensors.isEmpty()) {
      return List.of();
    }
    List<Operand<TFloat32>> flat = new ArrayList<>();
    long[] sizes = new long[tensors.size()];
    for (int i = 0; i < tensors.size(); i++) {
      Shape s = tensors.get(i).shape();
      if (s.isUnknown() || s.hasUnknownDimension()) {
        throw new IllegalArgumentException("all-reduce needs fully known shapes; tensor " + i
            + " (" + tensors.get(i).op().name() + ") has shape " + s);
      }
      sizes[i] = s.size();
      flat.add(tf.reshape(tensors.get(i), tf.constant(new long[] {-1})));
    }
    Operand<TFloat32> packed = flat.size() == 1 ? flat.get(0)
        : tf.withName("pack").concat(flat, tf.constant(0));
    Output<TFloat32> reduced = allReduce(tf, packed, groupSize, instanceKey, timeoutSeconds,
        finalOp);
    List<Operand<TFloat32>> out = new ArrayList<>();
    long offset = 0;
    for (int i = 0; i < tensors.size(); i++) {
      Operand<TFloat32> part = tf.slice(reduced, tf.constant(new long[] {offset}),
          tf.constant(new long[] {sizes[i]}));
      offset += sizes[i];
      out.add(tf.reshape(part, tf.constant(tensors.get(i).shape().asArray())));
    }
    return out;
  }

  /** One {@code CollectiveReduceV2} over the group: merge Add, then {@code finalOp} (Div: mean). */
  static Output<TFloat32> allReduce(Ops tf, Operand<TFloat32> x, int groupSize,
      int instanceKey, float timeoutSeconds, String finalOp) {
    OperationBuilder b = tf.scope().opBuilder("CollectiveReduceV2", "all_reduce");
    b.addInput(x.asOutput());
    b.addInput(tf.constant(groupSize).asOutput());
    b.addInput(tf.constant(GROUP_KEY).asOutput());
    b.addInput(tf.constant(instanceKey).asOutput());
    b.addInputList(new Output<?>[0]);
    b.setAttr("merge_op", "Add");
    b.setAttr("final_op", finalOp);
    b.setAttr("communication_hint", "ring");
    b.setAttr("timeout_seconds", timeoutSeconds);
    return b.build().output(0);
  }

}
