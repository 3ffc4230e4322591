package dev.dks.rewriter.passes.norm;

import dev.dks.rewriter.graph.TensorName;
import java.util.Map;
import java.util.Set;

/**
 * A batch norm whose training and inference forms are the two branches of a TF1 {@code tf.cond}
 * on a training flag, as {@code tf.layers.batch_normalization(training=flag)} and {@code
 * tf.cond(is_training, ...)} write it ({@link BatchNormCondMatcher} lists the two forms):
 *
 * <ul>
 *   <li>unfused: one statistic, {@code Merge(Switch(moving, flag):0, Switch(batch, flag):1)} (or
 *       the ports the other way round, as the flag's meaning has it): the branch a served model
 *       takes reads the stored moving average, the other the statistic of the batch ({@code
 *       tf.nn.moments}); the inference value is the moving average itself, outside the cond;
 *   <li>whole outputs (Keras' {@code K.in_train_phase}): {@code Merge(Switch(bn_inference(x),
 *       flag):0, Switch(bn_training(x), flag):1)}, two batch norms of the same x computed outside
 *       the cond; the inference value is the stored-statistics one;
 *   <li>fused: {@code Merge(FusedBatchNorm(is_training=false):k, FusedBatchNorm(is_training=
 *       true):k)} for outputs k, each FusedBatchNorm reading its inputs through Switches on the
 *       flag; the inference value is the inference FusedBatchNorm's output k, once its Switch
 *       inputs are replaced by the tensors they switch ({@code lifted}).
 * </ul>
 *
 * @param merges each Merge of the cond, with the tensor its readers read instead (the inference
 *     branch's value)
 * @param lifted the inference branch's own node, whose Switch inputs become the switched tensors
 *     so that it runs outside the cond; null when the inference value is already outside
 * @param training the training branch's value (for notes)
 * @param flag the bool placeholder the cond switches on
 * @param nodes the cond's nodes removed once it is resolved: the Merges, Switches, Identity nodes
 *     inside the branches and the training branch's batch norm
 */
record BatchNormCond(Map<String, TensorName> merges, String lifted, TensorName training,
    String flag, Set<String> nodes) {

  /** The first Merge (the statistic's, or the normalized output's). */
  String merge() {
    return merges.keySet().iterator().next();
  }
}
