package dev.dks.trainers.graph;

import dev.dks.rewriter.model.Model;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/**
 * Training a network that keeps its batch normalization (a BN-ResNet baseline): the builder and
 * most SavedModels hold {@code FusedBatchNormV3} in inference form (fixed moving statistics, which
 * makes BN a per-channel affine map); {@link #trainingMode} switches every one to batch
 * statistics ({@code is_training = true}, whose gradient TF has); {@link TrainingGraph} leaves the
 * moving statistics out of the trained variables by default. The moving averages are not
 * updated, so a model trained this way is evaluated in training mode too (batch statistics).
 */
public final class BatchNormTraining {
  private BatchNormTraining() {}

  /** {@code model} with every FusedBatchNormV3 using batch statistics. */
  public static Model trainingMode(Model model) {
    GraphDef.Builder g = model.graph().toBuilder();
    for (NodeDef.Builder n : g.getNodeBuilderList()) {
      if (n.getOp().equals("FusedBatchNormV3")) {
        n.putAttr("is_training", AttrValue.newBuilder().setB(true).build());
      }
    }
    return model.with(g.build(), model.variables());
  }
}
