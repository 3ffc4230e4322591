package dev.dks.trainers.kfac;

import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * The seeded backward passes of one statistics update, as the blocks read them, and where this
 * replica's examples sit in the global batch.
 *
 * <p>Positions: a data-parallel replica of rank r holds the rows {@code [firstExample,
 * firstExample + local batch)} of the global batch; the statistics use the first
 * {@code globalExamples} rows of the <b>global</b> batch, so this replica uses its first
 * {@code examples} rows (possibly none). One process: {@code firstExample = 0}, one replica.
 * Blocks return shares whose mean over the replicas is the global batch's statistic: sums over
 * the used local rows divided by {@link #perReplicaExamples} (the global count over the number
 * of replicas).
 *
 * @param examples how many leading examples of this replica's batch the statistics use (scalar
 *     int32 tensor); the seeds of later examples are zero
 * @param firstExample the global batch position of this replica's first example (int32 scalar)
 * @param globalExamples how many examples the statistics use over all replicas (int32 scalar)
 * @param replicas the number of replicas whose shares are averaged (1: one process)
 * @param outputGradients per registered layer output tensor name, one gradient tensor per seed
 *     ({@code g}, per example: gradients of the summed seeded loss)
 * @param variableGradients per diagonal-block variable name, one gradient per seed (of the summed
 *     seeded loss over the used examples)
 * @param seed the int64 {@code [2]} seed of this update's draws ({@code [options.seed, step]});
 *     blocks that draw (sampled patch rows) derive their own stream from it
 * @param layerInputs per registered layer input tensor name, the tensor the statistics read as
 *     that input (the layer's own, or its {@link SubBatchForward} copy's)
 * @param sliced whether blocks must take the first {@code examples} rows of the layer inputs and
 *     output gradients themselves (false with the whole batch, where they hold exactly the used
 *     rows; with a {@link SubBatchForward} copy the slice is a no-op unless this replica's part is
 *     empty and the copy read one row anyway)
 */
public record StatisticsPasses(
    Operand<TInt32> examples,
    Operand<TInt32> firstExample,
    Operand<TInt32> globalExamples,
    int replicas,
    Map<String, List<Output<TFloat32>>> outputGradients,
    Map<String, List<Output<TFloat32>>> variableGradients,
    Operand<TInt64> seed,
    Map<String, Output<TFloat32>> layerInputs,
    boolean sliced) {

  /** {@code globalExamples / replicas} as float32: the divisor of a replica's share of a mean. */
  Operand<TFloat32> perReplicaExamples(Ops tf) {
    Operand<TFloat32> n = FactorOps.toFloat(tf, globalExamples);
    return replicas == 1 ? n : tf.math.div(n, tf.constant((float) replicas));
  }
}
