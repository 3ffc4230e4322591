package dev.dks.rewriter.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.testing.DenseNets;
import dev.dks.solver.network.Dag;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;

/**
 * The structure analysis reads a Mul of two streams from the input (a gate {@code h *
 * sigmoid(dense(relu(dense(h))))}) as one PRODUCT node of the kernel DAG reading the two streams,
 * with no "equal-weight average" warning; controls: a Mul by a constant and a Mul of a tensor by
 * itself are no products, and hard-swish written with x scaled first, {@code (x * 1/6) *
 * relu6(x + 3)} (the TF.js selfie and meet models), is one hard_swish activation, not a product of
 * its pieces (also with 1/6 stored in float16, as TF.js models store it), while the same form with
 * 1/5 is not hard-swish.
 */
class StreamProductTest {
  private static void mul(DenseNets n, String name, TensorName a, TensorName b) {
    n.g.add(Nodes.op("Mul", name).input(a).input(b).type("T", DataType.DT_FLOAT).build());
  }

  private static NetworkAnalysis analyze(Model m) {
    return StructureAnalyzer.analyze(GraphView.of(m.graph()), List.of("input"),
        List.of("output"));
  }

  private static long products(NetworkAnalysis a) {
    return a.dag().nodes().stream().filter(x -> x.kind() == Dag.Kind.PRODUCT).count();
  }

  @Test
  void aGateTimesTheFeaturesIsOneProductOfTheTwoStreams() {
    DenseNets n = new DenseNets();
    TensorName h = n.act("tanh", n.dense(TensorName.of("input")));
    TensorName g = n.act("sigmoid", n.dense(n.act("relu", n.dense(h))));
    mul(n, "se/mul", h, g);
    NetworkAnalysis a = analyze(n.model(n.dense(TensorName.of("se/mul"))));
    assertEquals(1, products(a), a.dag().toString());
    Dag.Node p = a.dag().nodes().get(a.dagIndex().get("se/mul"));
    assertEquals(Dag.Kind.PRODUCT, p.kind());
    assertEquals(List.of(a.dagIndex().get(h.node()), a.dagIndex().get(g.node())),
        List.of(p.inputs()[0], p.inputs()[1]));
    assertEquals(List.of("tanh", "relu", "sigmoid"),
        a.activations().stream().map(ActivationSite::kind).toList());
    assertTrue(a.warnings().stream().noneMatch(w -> w.contains("equal-weight average")),
        a.warnings().toString());
  }

  @Test
  void constantFactorsAndSquaresAreNoProducts() {
    DenseNets n = new DenseNets();
    TensorName h = n.act("tanh", n.dense(TensorName.of("input")));
    n.g.add(Nodes.floatScalar("c/half", 0.5f));
    mul(n, "scaled", h, TensorName.of("c/half"));
    mul(n, "square", TensorName.of("scaled"), TensorName.of("scaled"));
    NetworkAnalysis a = analyze(n.model(n.dense(TensorName.of("square"))));
    assertEquals(0, products(a));
  }

  private static NetworkAnalysis hardSwishScaledFirst(float factor) {
    DenseNets n = new DenseNets();
    TensorName x = n.dense(TensorName.of("input"));
    n.g.add(Nodes.floatScalar("hs/sixth", factor));
    n.g.add(Nodes.floatScalar("hs/three", 3f));
    mul(n, "hs/scaled", TensorName.of("hs/sixth"), x);
    n.g.add(Nodes.op("AddV2", "hs/add").input(x).input("hs/three")
        .type("T", DataType.DT_FLOAT).build());
    n.g.add(Nodes.op("Relu6", "hs/relu6").input("hs/add").type("T", DataType.DT_FLOAT).build());
    mul(n, "hs/out", TensorName.of("hs/scaled"), TensorName.of("hs/relu6"));
    return analyze(n.model(n.dense(TensorName.of("hs/out"))));
  }

  @Test
  void hardSwishWithTheInputScaledFirstIsOneActivation() {
    // 1/6 as float32, and as selfie stores it (float16: 0.1666259765625)
    for (float sixth : new float[] {1f / 6, 0.1666259765625f}) {
      NetworkAnalysis a = hardSwishScaledFirst(sixth);
      assertEquals(1, a.activations().size(), a.activations().toString());
      ActivationSite s = a.activations().get(0);
      assertEquals("hard_swish", s.kind());
      assertEquals("hs/out", s.output());
      assertEquals(TensorName.of("dense1/BiasAdd"), s.input());
      assertEquals(0, products(a));
    }

    NetworkAnalysis fifth = hardSwishScaledFirst(1f / 5);
    assertTrue(fifth.activations().stream().noneMatch(x -> x.kind().equals("hard_swish")),
        fifth.activations().toString());
    assertEquals("relu6", fifth.activations().get(0).kind());
  }
}
