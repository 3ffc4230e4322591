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
   * The tensor an {@code IdentityN} output forwards (through Identity and IdentityN reads), or
   * {@code output} itself when its node is not an IdentityN: TensorFlow has no gradient for
   * IdentityN, so a served output that is one (a Keras model whose call was inlined, without a
   * Softmax) is trained on what it forwards.
   */
  public static TensorName behindIdentityN(GraphView g, TensorName output) {
    boolean marker = g.find(output.node()).map(n -> n.getOp().equals("IdentityN"))
        .orElse(false);
    return marker ? g.throughIdentities(output, MAX_IDENTITY_HOPS, true) : output;
  }

  /**
   * The input of the Softmax that {@code output} is (directly or through Identity and IdentityN
   * reads: a Keras model's inlined call leaves an IdentityN with the call's name as its served
   * output), or empty when it is not a Softmax's output.
   */
  public static Optional<TensorName> logitsBehind(GraphView g, TensorName output) {
    TensorName t = g.throughIdentities(output, MAX_IDENTITY_HOPS, true);
    return g.find(t.node()).filter(n -> t.index() == 0 && n.getOp().equals("Softmax"))
        .map(n -> TensorName.parse(n.getInput(0)));
  }
}
