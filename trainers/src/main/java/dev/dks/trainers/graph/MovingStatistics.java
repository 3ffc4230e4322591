package dev.dks.trainers.graph;

import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * The moving-average updates of the BN sites in training form, as one target op that
 * {@link TrainingGraph} runs in the same session call as each optimizer update (so the batch
 * statistics are those of the step's own forward pass): for each site, {@code moving_mean =
 * moving_mean * m + batch_mean * (1 - m)} and {@code moving_variance = moving_variance * m +
 * batch_variance * (1 - m)} with the site's momentum {@code m}, batch mean and variance being
 * outputs 1 and 2 of the BN node (the variance with Bessel's correction; see
 * {@link BatchNormTraining}). The moving statistics stay ordinary model variables: checkpoints
 * save them, {@link TrainingGraph#variables()} returns them and the exported model reads them.
 */
final class MovingStatistics {
  private MovingStatistics() {}

  /**
   * One op running every site's two updates ({@code NoOp} with control inputs), each after
   * {@code after} (the optimizer update): the assignments write the variables' buffers in place,
   * so they wait until every op of the step that might read them (forward, backward, update) is
   * done.
   */
  static Op emit(Ops tf, Graph g, List<BatchNormTraining.Site> sites, Op after) {
    tf = tf.withControlDependencies(List.of(after));
    List<Op> updates = new ArrayList<>();
    int i = 0;
    for (BatchNormTraining.Site s : sites) {
      GraphOperation bn = g.operationOrThrow(s.node());
      Ops site = tf.withSubScope("site" + i++);
      updates.add(update(site, g.operationOrThrow(s.meanVariable()).output(0), bn.output(1),
          s.momentum()));
      updates.add(update(site, g.operationOrThrow(s.varianceVariable()).output(0), bn.output(2),
          s.momentum()));
    }
    return tf.withControlDependencies(updates).withName("update").noOp();
  }

  /** The updates' op for each optimizer-update op, in a sub-scope each. */
  static java.util.Map<Op, Op> emitAll(Ops tf, Graph g, List<BatchNormTraining.Site> sites,
      List<Op> afters) {
    java.util.Map<Op, Op> out = new java.util.LinkedHashMap<>();
    for (Op a : afters) {
      out.put(a, emit(tf.withSubScope("after_" + out.size()), g, sites, a));
    }
    return out;
  }

  private static Op update(Ops tf, Output<TFloat32> moving, Output<TFloat32> batch,
      double momentum) {
    Operand<TFloat32> old = tf.identity(moving);
    Operand<TFloat32> next = tf.math.add(tf.math.mul(old, tf.constant((float) momentum)),
        tf.math.mul(batch, tf.constant((float) (1 - momentum))));
    return tf.assign(moving, next);
  }
}
