package dev.dks.rewriter.passes.dks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.DksRewrite;
import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.analysis.BodyConditionals;
import dev.dks.rewriter.analysis.NetworkAnalysis;
import dev.dks.rewriter.analysis.StructureAnalyzer;
import dev.dks.rewriter.analysis.UnsupportedConstructException;
import dev.dks.rewriter.graph.GraphImport;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorSpec;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.testing.DenseNets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Output;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;

/**
 * body-check on a dense net with a TF1 {@code tf.cond} (Switch, a branch each way, Merge) whose
 * predicate is {@code ratio == 1}, {@code ratio} a second input (as rvm's downsample ratio): in
 * the body (between the two layers) the rewrite is refused before anything changes, naming the
 * Switch, the Merge and the input; after the last layer (head) it is left alone. The premise is
 * TensorFlow's own: adding the gradient of the output with respect to the first kernel fails on
 * the body cond.
 */
class BodyCheckPassTest {
  /** relu(dense1(input)) -> [cond] -> dense2 -> y, or the cond after dense2 when {@code head}. */
  private static Model model(boolean head) {
    DenseNets n = new DenseNets();
    n.g.add(Nodes.op("Placeholder", "ratio").type("dtype", DataType.DT_FLOAT).build());
    n.g.add(Nodes.floatScalar("one", 1f));
    n.g.add(Nodes.op("Equal", "pred").input("ratio").input("one").type("T", DataType.DT_FLOAT)
        .attr("incompatible_shape_error", AttrValue.newBuilder().setB(true).build()).build());
    TensorName h = n.act("relu", n.dense(TensorName.of("input")));
    TensorName in = head ? n.dense(h) : h;
    n.g.add(Nodes.op("Switch", "cond/Switch").input(in).input("pred")
        .type("T", DataType.DT_FLOAT).build());
    n.g.add(Nodes.op("Identity", "cond/then").input("cond/Switch:1")
        .type("T", DataType.DT_FLOAT).build());
    n.g.add(Nodes.floatScalar("cond/two", 2f));
    n.g.add(Nodes.op("Mul", "cond/else").input("cond/Switch").input("cond/two")
        .type("T", DataType.DT_FLOAT).build());
    n.g.add(Nodes.op("Merge", "cond/Merge").input("cond/else").input("cond/then")
        .type("T", DataType.DT_FLOAT).attr("N", AttrValue.newBuilder().setI(2).build()).build());
    TensorName out = head ? TensorName.of("cond/Merge") : n.dense(TensorName.of("cond/Merge"));
    n.g.add(Nodes.op("Identity", "y").input(out).type("T", DataType.DT_FLOAT).build());
    Map<String, TensorSpec> inputs = Map.of(
        "x", new TensorSpec(TensorName.of("input"), DataType.DT_FLOAT,
            new long[] {-1, DenseNets.WIDTH}),
        "ratio", new TensorSpec(TensorName.of("ratio"), DataType.DT_FLOAT, new long[0]));
    return new Model(n.g.toGraphDef(), n.vars, List.of(new Signature(Signature.SERVING_DEFAULT,
        Signature.PREDICT_METHOD, inputs, Map.of("y", new TensorSpec(TensorName.of("y"),
            DataType.DT_FLOAT, null)))));
  }

  private static Pipeline.Result check(Model m) {
    return Pipeline.builder().add(new BodyCheckPass()).build().run(m);
  }

  @Test
  void aCondInTheBodyIsRefusedNamingItsNodesAndInput() {
    Model m = model(false);
    UnsupportedConstructException e = assertThrows(UnsupportedConstructException.class,
        () -> check(m));
    assertEquals(BodyConditionals.CONSTRUCT, e.construct());
    assertEquals(List.of("cond/Switch", "cond/Merge"), e.nodes());
    for (String s : List.of("'cond/Switch' (Switch), 'cond/Merge' (Merge)", "predicate is 'pred'",
        "input 'ratio'", "What to do")) {
      assertTrue(e.getMessage().contains(s), s + " in: " + e.getMessage());
    }
    // the default rewrite refuses it too, at this pass (before the gradient check)
    UnsupportedConstructException viaRewrite = assertThrows(UnsupportedConstructException.class,
        () -> DksRewrite.pipeline(RewriteOptions.defaults()).build().run(m));
    assertEquals(e.getMessage(), viaRewrite.getMessage());
  }

  @Test
  void tensorFlowHasNoGradientThroughTheBodyCond() {
    try (Graph g = new Graph()) {
      GraphImport.into(g, model(false).graph());
      Output<?> y = g.operation("y").output(0);
      Output<?> kernel = g.operation("dense1/kernel").output(0);
      RuntimeException e = assertThrows(RuntimeException.class,
          () -> g.addGradients(y, new Output<?>[] {kernel}));
      assertTrue(e.getMessage().contains("No gradient defined"), e.getMessage());
    }
  }

  @Test
  void aCondAfterTheLastLayerIsTheHeadAndAccepted() {
    Model m = model(true);
    NetworkAnalysis a = StructureAnalyzer.analyze(dev.dks.rewriter.graph.GraphView.of(
        m.graph()), List.of("input", "ratio"), List.of("y"));
    assertFalse(a.body().contains("cond/Switch"), a.body().toString());
    assertTrue(a.head().get("y").containsAll(List.of("cond/Switch", "cond/Merge")),
        a.head().toString());
    PassOutcome o = check(m).outcomes().get(0);
    assertEquals(0, o.changes());
    assertEquals(List.of("no tf.cond in the body"), o.notes());
  }
}
