package dev.dks.trainers.graph;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import java.util.Optional;

/**
 * The logits behind a classifier's probability output. Keras and TF1 classifiers often serve
 * {@code Softmax(logits)} (a Dense layer with {@code activation='softmax'}, a {@code
 * tf.nn.softmax} head); training on that output with a softmax cross-entropy applies softmax
 * twice, so the loss cannot fall below about 1.46 nats for 10 classes and the gradients shrink
 * with the probabilities (ML.NET's MNIST conv model: 75.9% test accuracy after 300 steps). The
 * trainer therefore takes the Softmax's input as the logits; the served model keeps its Softmax.
 */
public final class SoftmaxHead {
  /** How many Identity reads are followed from the output to the Softmax. */
  private static final int MAX_IDENTITY_HOPS = 4;

  private SoftmaxHead() {}

  /**
   * The input of the Softmax that {@code output} is (directly or through Identity reads), or
   * empty when it is not a Softmax's output.
   */
  public static Optional<TensorName> logitsBehind(GraphView g, TensorName output) {
    TensorName t = g.throughIdentities(output, MAX_IDENTITY_HOPS);
    return g.find(t.node()).filter(n -> t.index() == 0 && n.getOp().equals("Softmax"))
        .map(n -> TensorName.parse(n.getInput(0)));
  }
}
