package dev.dks.trainers.kfac;

import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * The seeded backward passes of one statistics update, as the blocks read them.
 *
 * @param examples how many leading examples of the batch the statistics use (scalar int32 tensor);
 *     the seeds of later examples are zero
 * @param outputGradients per registered layer output tensor name, one gradient tensor per seed
 *     ({@code g}, per example: gradients of the summed seeded loss)
 * @param variableGradients per diagonal-block variable name, one gradient per seed (of the summed
 *     seeded loss over the used examples)
 * @param seed the int64 {@code [2]} seed of this update's draws ({@code [options.seed, step]});
 *     blocks that draw (sampled patch rows) derive their own stream from it
 */
public record StatisticsPasses(
    Operand<TInt32> examples,
    Map<String, List<Output<TFloat32>>> outputGradients,
    Map<String, List<Output<TFloat32>>> variableGradients,
    Operand<TInt64> seed) {}
