package dev.dks.trainers.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorSpec;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;

/**
 * A model that serves {@code Softmax(logits)} trains on the logits ({@link SoftmaxHead}): its
 * loss on a confident example is the closed-form cross-entropy of the logits, not that of the
 * probabilities put through a second softmax (negative control: the value the old trainer's
 * double softmax gives, far from it).
 */
class SoftmaxHeadTest {
  /** identityLinear's logits, served through Softmax and an Identity as "probs". */
  private static Model softmaxServed() {
    Model m = TestModels.identityLinear();
    GraphView g = GraphView.of(m.graph());
    g.add(Nodes.op("Softmax", "softmax").input("logits").type("T", DataType.DT_FLOAT).build());
    g.add(Nodes.op("Identity", "probs").input("softmax").type("T", DataType.DT_FLOAT).build());
    Signature s = m.signatures().get(0);
    Signature served = new Signature(s.key(), s.methodName(), s.inputs(),
        Map.of("probs", new TensorSpec(TensorName.of("probs"), DataType.DT_FLOAT,
            new long[] {-1, 3})));
    return new Model(g.toGraphDef(), m.variables(), List.of(served));
  }

  @Test
  void findsTheSoftmaxInputThroughIdentity() {
    Model m = softmaxServed();
    GraphView g = GraphView.of(m.graph());
    assertEquals(Optional.of(TensorName.of("logits")),
        SoftmaxHead.logitsBehind(g, TensorName.of("probs")));
    assertEquals(Optional.empty(), SoftmaxHead.logitsBehind(g, TensorName.of("logits")));
  }

  @Test
  void trainsOnTheLogitsNotTheProbabilities() {
    float big = 30f;
    long[] shape = {1, 3};
    float[] x = {big, 0, 0};
    float[] right = {1, 0, 0};
    float[] wrong = {0, 1, 0};
    double lse = Math.log1p(2 * Math.exp(-big)); // log-sum-exp(L, 0, 0) - L
    // what a second softmax over the probabilities (about 1, 0, 0) gives for the right label
    double doubleSoftmax = -Math.log(Math.E / (Math.E + 2));
    try (TrainingGraph tg = TrainingGraph.build(softmaxServed(), TrainingSpec.defaults())) {
      assertEquals("logits", tg.logitsTensor());
      assertEquals(Optional.of("probs"), tg.softmaxOutput());
      double rightLoss = tg.evaluate(x, shape, right)[0];
      assertEquals(lse, rightLoss, 1e-6);
      assertTrue(Math.abs(rightLoss - doubleSoftmax) > 0.5, "double softmax " + doubleSoftmax);
      assertEquals(big + lse, tg.evaluate(x, shape, wrong)[0], 1e-4 * big);
    }
    try (TrainingGraph plain = TrainingGraph.build(TestModels.identityLinear(),
        TrainingSpec.defaults())) {
      assertEquals(Optional.empty(), plain.softmaxOutput());
    }
  }

  /**
   * A Keras model's inlined call leaves an IdentityN with the call's name as the served output
   * (tfnet_simple_model_from_auto_compile: Softmax -> Identity -> IdentityN): the Softmax is
   * found behind it, and without a Softmax the IdentityN's input is trained on (TF has no
   * gradient for IdentityN).
   */
  @Test
  void looksThroughTheInlinersIdentityN() {
    GraphView g = GraphView.of(softmaxServed().graph());
    g.add(Nodes.op("IdentityN", "call").input("probs").input("logits").build());
    assertEquals(Optional.of(TensorName.of("logits")),
        SoftmaxHead.logitsBehind(g, TensorName.of("call", 0)));
    // output 1 forwards the logits themselves: no Softmax, trained on "logits"
    assertEquals(Optional.empty(), SoftmaxHead.logitsBehind(g, TensorName.of("call", 1)));
    assertEquals(TensorName.of("logits"),
        SoftmaxHead.behindIdentityN(g, TensorName.of("call", 1)));
    // negative control: an output that is not an IdentityN stays as it is
    assertEquals(TensorName.of("probs"), SoftmaxHead.behindIdentityN(g, TensorName.of("probs")));
  }
}
