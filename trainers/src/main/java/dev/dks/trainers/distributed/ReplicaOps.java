package dev.dks.trainers.distributed;

import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * The ops a {@link Replication} adds to a training graph, emitted by {@code TrainingGraph}'s
 * replication hook: the averaged gradients, loss and accuracy of a step, and an op that copies
 * rank 0's variables (and optimizer slots) to every replica.
 *
 * @param gradients the cross-replica mean of each gradient, in the given order
 * @param loss the mean of the replicas' losses (the global batch's loss for equal shards)
 * @param accuracy likewise for the accuracy
 */
public record ReplicaOps(List<Output<TFloat32>> gradients, Operand<TFloat32> loss,
    Operand<TFloat32> accuracy) {

  /** Copies the list. */
  public ReplicaOps {
    gradients = List.copyOf(gradients);
  }

  /** Emits one all-reduce of the gradients, the loss and the accuracy together. */
  public static ReplicaOps emit(Replication r, Ops tf, List<Output<TFloat32>> gradients,
      Operand<TFloat32> loss, Operand<TFloat32> accuracy) {
    List<Operand<TFloat32>> all = new ArrayList<>(gradients);
    all.add(loss);
    all.add(accuracy);
    List<Operand<TFloat32>> m = r.mean(tf, all);
    List<Output<TFloat32>> g = new ArrayList<>();
    for (int i = 0; i < gradients.size(); i++) {
      g.add(m.get(i).asOutput());
    }
    return new ReplicaOps(g, m.get(gradients.size()), m.get(gradients.size() + 1));
  }

  /**
   * Emits a target that assigns rank 0's value of every variable in {@code variables} to it on
   * every replica (so all replicas start, or resume, from the chief's state bit for bit).
   */
  public static Op syncFromRank0(Replication r, Ops tf, List<Output<TFloat32>> variables) {
    Ops scope = tf.withSubScope("sync_from_rank0");
    List<Operand<TFloat32>> reads = new ArrayList<>();
    for (Output<TFloat32> v : variables) {
      reads.add(scope.identity(v));
    }
    List<Operand<TFloat32>> copies = r.fromRank0(scope, reads);
    List<Op> assigns = new ArrayList<>();
    for (int i = 0; i < variables.size(); i++) {
      assigns.add(scope.assign(variables.get(i), copies.get(i)));
    }
    return scope.withControlDependencies(assigns).withName("done").noOp();
  }
}
