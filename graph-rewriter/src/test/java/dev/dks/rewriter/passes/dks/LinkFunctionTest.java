package dev.dks.rewriter.passes.dks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.DksRewrite;
import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.analysis.StructureAnalyzer;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.model.TensorSpec;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.testing.DenseNets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * Output link functions are head, not hidden activations. A two-headed network: a relu body (thirty
 * dense layers), then a score head {@code sigmoid(dense(h))} and a landmark head {@code
 * tanh(dense(h))}, each an output. The default TAT rewrite (leaky_relu) must shape the relus and
 * leave both link functions exactly as they are; a sigmoid with a layer after it stays a hidden
 * activation (and TAT still refuses the mix).
 */
class LinkFunctionTest {
  private static final int W = DenseNets.WIDTH;
  /** Relu layers of the body: deep enough for TAT's default eta 0.9. */
  private static final int BODY = 30;

  /** The two-headed net; {@code hiddenSigmoid}: a dense layer after the score head's sigmoid. */
  private static Model twoHeaded(boolean hiddenSigmoid) {
    DenseNets n = new DenseNets();
    TensorName h = TensorName.of("input");
    for (int i = 0; i < BODY; i++) {
      h = n.act("relu", n.dense(h));
    }
    n.g.add(Nodes.op("Sigmoid", "scores/Sigmoid").input(n.dense(h)).type("T", DataType.DT_FLOAT)
        .build());
    TensorName scores = TensorName.of("scores/Sigmoid");
    if (hiddenSigmoid) {
      scores = n.dense(scores);
    }
    n.g.add(Nodes.op("Tanh", "landmarks/Tanh").input(n.dense(h)).type("T", DataType.DT_FLOAT)
        .build());
    n.g.add(Nodes.op("Identity", "scores").input(scores).type("T", DataType.DT_FLOAT).build());
    n.g.add(Nodes.op("Identity", "landmarks").input("landmarks/Tanh")
        .type("T", DataType.DT_FLOAT).build());
    Map<String, TensorSpec> outs = new LinkedHashMap<>();
    outs.put("scores", new TensorSpec(TensorName.of("scores"), DataType.DT_FLOAT,
        new long[] {-1, W}));
    outs.put("landmarks", new TensorSpec(TensorName.of("landmarks"), DataType.DT_FLOAT,
        new long[] {-1, W}));
    TensorSpec in = new TensorSpec(TensorName.of("input"), DataType.DT_FLOAT, new long[] {-1, W});
    return new Model(n.g.toGraphDef(), n.vars, List.of(new Signature(Signature.SERVING_DEFAULT,
        Signature.PREDICT_METHOD, Map.of("x", in), outs)));
  }

  @Test
  void tatShapesTheBodyAndLeavesBothLinkFunctions() {
    Model in = twoHeaded(false);
    GraphView before = GraphView.of(in.graph());
    Pipeline.Result r = DksRewrite.pipeline(RewriteOptions.defaults()).build().run(in);
    PassOutcome shape = r.outcomes().stream().filter(o -> o.pass().equals("shape-activations"))
        .findFirst().orElseThrow();
    assertEquals(BODY, shape.changes(), shape.toString());
    for (String link : List.of("scores/Sigmoid", "landmarks/Tanh")) {
      assertTrue(shape.notes().stream().anyMatch(s -> s.contains("'" + link + "'")
          && s.contains(StructureAnalyzer.LINK_FUNCTION)), shape.toString());
    }
    GraphView g = GraphView.of(r.model().graph());
    int relu = 0;
    int leaky = 0;
    for (NodeDef node : g.nodes()) {
      relu += node.getOp().equals("Relu") ? 1 : 0;
      leaky += node.getOp().equals("LeakyRelu") ? 1 : 0;
    }
    assertEquals(0, relu);
    assertEquals(BODY, leaky);
    for (String link : List.of("scores/Sigmoid", "landmarks/Tanh")) {
      NodeDef was = before.get(link);
      NodeDef now = g.get(link);
      assertEquals(was.getOp(), now.getOp());
      assertEquals(was.getInputList(), now.getInputList());
      assertEquals(List.of(link), g.consumers(link).stream().map(c -> g.get(c).getInput(0))
          .toList());
    }

    // the heads compute sigmoid and tanh of their logits, checked by hand
    float[] x = new float[3 * W];
    Random rnd = new Random(5);
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rnd.nextGaussian();
    }
    String scoreLogits = before.get("scores/Sigmoid").getInput(0);
    String landmarkLogits = before.get("landmarks/Tanh").getInput(0);
    try (ModelSession s = new ModelSession(r.model())) {
      Map<String, TensorProto> got = s.run(Map.of("input",
          TensorProtos.ofFloats(new long[] {3, W}, x)),
          List.of("scores", "landmarks", scoreLogits, landmarkLogits));
      float[] sc = TensorProtos.floats(got.get("scores"));
      float[] lm = TensorProtos.floats(got.get("landmarks"));
      float[] sl = TensorProtos.floats(got.get(scoreLogits));
      float[] ll = TensorProtos.floats(got.get(landmarkLogits));
      assertEquals(3 * W, sc.length);
      for (int i = 0; i < sc.length; i++) {
        assertEquals(1 / (1 + Math.exp(-sl[i])), sc[i], 1e-6);
        assertEquals(Math.tanh(ll[i]), lm[i], 1e-6);
      }
    }
  }

  /**
   * A sigmoid with a layer after it is a hidden activation of the body: under TAT beside the
   * ReLU family it is shaped with them in TAT's smooth form (the ReLU family becomes softplus,
   * {@link ActivationPolicy#forBody}); before that policy the rewrite refused.
   */
  @Test
  void aSigmoidWithALayerAfterItIsStillAHiddenActivation() {
    Pipeline.Result r = DksRewrite.pipeline(RewriteOptions.defaults()).build()
        .run(twoHeaded(true));
    dev.dks.solver.solve.ShapingSolution s = r.fact(dev.dks.solver.solve.ShapingSolution.class)
        .orElseThrow();
    assertEquals(java.util.Set.of("softplus", "sigmoid"), s.activations().keySet());
    assertTrue(r.outcomes().stream().flatMap(o -> o.notes().stream()).anyMatch(n -> n.contains(
        "mixes the ReLU family") && n.contains("(sigmoid)")), r.outcomes().toString());
  }
}
