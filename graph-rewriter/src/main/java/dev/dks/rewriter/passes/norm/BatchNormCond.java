package dev.dks.rewriter.passes.norm;

import dev.dks.rewriter.graph.TensorName;
import java.util.Set;

/**
 * A batch-norm statistic chosen by a TF1 {@code tf.cond} on a training flag, as {@code
 * tf.layers.batch_normalization(training=flag)} (unfused) and {@code tf.cond(is_training, ...)}
 * write it: {@code Merge(Switch(moving, flag):0, Switch(batch, flag):1)}, the branch taken when
 * the flag is false reading the stored moving average and the other the statistic of the batch
 * ({@code tf.nn.moments}: a {@code Mean} over axes that include the batch axis 0).
 *
 * @param merge the Merge node whose output 0 is the statistic
 * @param inference the stored statistic (the moving average, a variable or Const read): the
 *     inference branch's value, outside the cond
 * @param training the batch statistic (the training branch's value, outside the cond)
 * @param flag the bool placeholder the cond switches on
 * @param nodes the cond's nodes that carry this statistic: the Merge, its Switches and the
 *     Identity nodes between them (removed when the statistic is resolved)
 */
record BatchNormCond(String merge, TensorName inference, TensorName training, String flag,
    Set<String> nodes) {}
