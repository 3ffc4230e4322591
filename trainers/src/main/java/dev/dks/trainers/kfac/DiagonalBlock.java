package dev.dks.trainers.kfac;

import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * The fallback block of a trainable variable that is not in a dense or conv layer: a diagonal
 * curvature estimated, as kfac-jax's naive diagonal does, by the square of the seeded batch
 * gradient divided by the example count, {@code D = sum_seeds (sum_i g_i)^2 / m}, averaged like
 * the Kronecker factors. The cached inverse {@code 1 / (D + damping)} is refreshed with the other
 * inverses.
 *
 * <p>State: {@code d_acc} (shaped like the variable), {@code weight}, {@code d_inv}.
 */
final class DiagonalBlock implements CurvatureBlock {
  private final String variable;
  private final Variable<TFloat32> acc;
  private final Variable<TFloat32> weight;
  private final Variable<TFloat32> inverse;

  DiagonalBlock(Ops scope, String variable, Output<TFloat32> var) {
    this.variable = variable;
    acc = scope.withName("d_acc").variable(var.shape(), TFloat32.class);
    weight = scope.withName("weight").variable(org.tensorflow.ndarray.Shape.scalar(),
        TFloat32.class);
    inverse = scope.withName("d_inv").variable(var.shape(), TFloat32.class);
  }

  @Override
  public List<String> variables() {
    return List.of(variable);
  }

  @Override
  public List<Variable<TFloat32>> state() {
    return List.of(acc, weight, inverse);
  }

  @Override
  public List<Op> initState(Ops tf) {
    return List.of(tf.assign(acc, tf.zerosLike(acc)), tf.assign(weight, tf.zerosLike(weight)),
        tf.assign(inverse, tf.zerosLike(inverse)));
  }

  /**
   * Per seed, the replica's share of the mean seeded gradient {@code sum_i g_i / m} (its mean
   * over the replicas is the global batch's), so that the square is taken of the global sum: the
   * same {@code D} as one process, not a sum of per-replica squares.
   */
  @Override
  public List<Operand<TFloat32>> batchStatistics(Ops tf, StatisticsPasses backward) {
    List<Operand<TFloat32>> out = new java.util.ArrayList<>();
    for (Output<TFloat32> g : backward.variableGradients().get(variable)) {
      out.add(tf.math.div(g, backward.perReplicaExamples(tf)));
    }
    return out;
  }

  @Override
  public List<Op> accumulate(Ops tf, List<Operand<TFloat32>> statistics,
      StatisticsPasses backward, Operand<TFloat32> rho) {
    // sum_seeds (sum_i g_i)^2 / m = sum_seeds (mean g)^2 m
    Operand<TFloat32> sum = null;
    for (Operand<TFloat32> mean : statistics) {
      Operand<TFloat32> sq = tf.math.square(mean);
      sum = sum == null ? sq : tf.math.add(sum, sq);
    }
    Operand<TFloat32> batch = tf.math.mul(sum, FactorOps.toFloat(tf, backward.globalExamples()));
    return List.of(FactorOps.accumulate(tf, acc, batch, rho),
        FactorOps.countBatch(tf, weight, rho));
  }

  @Override
  public List<Op> updateInverses(Ops tf, Operand<TFloat32> damping) {
    return List.of(tf.assign(inverse, tf.math.reciprocal(
        tf.math.add(FactorOps.average(tf, acc, weight), damping))));
  }

  @Override
  public Operand<TFloat32> quadratic(Ops tf, List<Operand<TFloat32>> deltas) {
    Operand<TFloat32> d = deltas.get(0);
    return tf.reduceSum(tf.math.mul(FactorOps.average(tf, acc, weight), tf.math.square(d)),
        FactorOps.allAxes(tf, d.shape().numDimensions()));
  }

  @Override
  public List<Operand<TFloat32>> precondition(Ops tf, List<Operand<TFloat32>> gradients,
      Operand<TFloat32> damping) {
    return List.of(tf.math.mul(gradients.get(0), inverse));
  }
}
