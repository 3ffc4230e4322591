package dev.dks.rewriter.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.DksRewrite;
import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.testing.DenseNets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * ReLU6 written as clamps (issue 18; faceres-deep writes Keras' relu(max_value=6) as
 * Maximum(Minimum(Relu(z), 6), 0) 27 times): each form is one relu6 site from the dense layer's
 * output z to its outermost node, and the graph computes min(max(z, 0), 6) (checked against that
 * formula in Java on inputs reaching below 0 and above 6). The default rewrite replaces the whole
 * chain: no clamp is left after the shaped activation, whose output on negative z is negative
 * (leaky ReLU; a surviving Maximum(., 0) would make it 0). Controls: a clamp to [0, 1] is no site,
 * is named in the analysis warnings and stays after the rewrite; a chain whose inner clamp is read
 * elsewhere is not one site.
 */
class ClampReluSixTest {
  private static final String Z = "dense1/BiasAdd";

  /** dense -> clamps (as {@code form}) -> dense -> output; returns the net and the top node. */
  private static DenseNets net(String form, float hi) {
    DenseNets n = new DenseNets();
    n.dense(TensorName.of("input"));
    n.g.add(Nodes.floatScalar("c/zero", 0f));
    n.g.add(Nodes.floatScalar("c/hi", hi));
    switch (form) {
      case "max-min" -> {
        op(n, "Maximum", "c/max", Z, "c/zero");
        op(n, "Minimum", "c/top", "c/max", "c/hi");
      }
      case "clip_by_value" -> {
        op(n, "Minimum", "c/min", "c/hi", Z);
        op(n, "Maximum", "c/top", "c/min", "c/zero");
      }
      case "relu-min" -> {
        n.g.add(Nodes.op("Relu", "c/relu").input(Z).type("T", DataType.DT_FLOAT).build());
        op(n, "Minimum", "c/top", "c/hi", "c/relu");
      }
      case "keras" -> {
        n.g.add(Nodes.op("Relu", "c/relu").input(Z).type("T", DataType.DT_FLOAT).build());
        op(n, "Minimum", "c/min", "c/relu", "c/hi");
        op(n, "Maximum", "c/top", "c/min", "c/zero");
      }
      case "shared" -> {
        op(n, "Maximum", "c/max", Z, "c/zero");
        op(n, "Minimum", "c/top", "c/max", "c/hi");
        op(n, "AddV2", "c/sum", "c/top", "c/max");
      }
      default -> throw new IllegalArgumentException(form);
    }
    return n;
  }

  private static void op(DenseNets n, String op, String name, String a, String b) {
    n.g.add(Nodes.op(op, name).input(a).input(b).type("T", DataType.DT_FLOAT).build());
  }

  private static Model model(DenseNets n, String top) {
    return n.model(n.dense(TensorName.of(top)));
  }

  /** Inputs 10 * N(0, 1): dense1's outputs reach below 0 and above 6. */
  private static final TensorProto X = scaled(DenseNets.gaussianInput(8, DenseNets.WIDTH, 3), 10);

  private static TensorProto scaled(TensorProto t, float k) {
    float[] v = TensorProtos.floats(t);
    for (int i = 0; i < v.length; i++) {
      v[i] *= k;
    }
    return TensorProtos.ofFloats(TensorProtos.shape(t), v);
  }

  private static Map<String, TensorProto> run(Model m, List<String> fetches) {
    try (ModelSession s = new ModelSession(m)) {
      return s.run(Map.of("input", X), fetches);
    }
  }

  @Test
  void everyClampFormOfReluSixIsOneSiteComputingIt() {
    for (String form : List.of("max-min", "clip_by_value", "relu-min", "keras")) {
      DenseNets n = net(form, 6f);
      Model m = model(n, "c/top");
      GraphView g = GraphView.of(m.graph());
      List<ActivationSite> sites = ActivationMatcher.find(g);
      assertEquals(1, sites.size(), form + ": " + sites);
      ActivationSite s = sites.get(0);
      assertEquals("relu6", s.kind(), form);
      assertEquals(TensorName.of(Z), s.input(), form);
      assertEquals("c/top", s.output(), form);
      assertEquals(form.equals("keras") ? 3 : 2, s.nodes().size(),
          form + ": " + s.nodes());
      NetworkAnalysis a = StructureAnalyzer.analyze(g, List.of("input"), List.of("output"));
      assertEquals(1, a.activations().size(), form);
      assertTrue(a.warnings().stream().noneMatch(w -> w.contains("clamps")), a.warnings()
          .toString());

      Map<String, TensorProto> got = run(m, List.of(Z, "c/top"));
      float[] z = TensorProtos.floats(got.get(Z));
      float[] y = TensorProtos.floats(got.get("c/top"));
      boolean below = false;
      boolean above = false;
      for (int i = 0; i < z.length; i++) {
        assertEquals(Math.min(Math.max(z[i], 0f), 6f), y[i], 0f, form + " at " + i);
        below |= z[i] < 0;
        above |= z[i] > 6;
      }
      assertTrue(below && above, "the inputs reach both bounds");
    }
  }

  @Test
  void theRewriteReplacesTheWholeChain() {
    Model m = model(net("keras", 6f), "c/top");
    Model r = DksRewrite.pipeline(RewriteOptions.defaults()).build().run(m).model();
    GraphView g = GraphView.of(r.graph());
    for (String gone : List.of("c/relu", "c/min", "c/top")) {
      assertTrue(!g.contains(gone), gone + " is left");
    }
    assertTrue(g.nodes().stream().map(NodeDef::getOp).noneMatch(o -> o.equals("Minimum")
        || o.equals("Maximum") || o.equals("Relu")), "a clamp is left");
    // the second layer reads the shaped activation: negative where dense1's output is
    String layerInput = g.get("dense2/MatMul").getInput(0);
    Map<String, TensorProto> got = run(r, List.of(Z, layerInput));
    float[] z = TensorProtos.floats(got.get(Z));
    float[] a = TensorProtos.floats(got.get(layerInput));
    int negative = 0;
    for (int i = 0; i < z.length; i++) {
      if (z[i] < -0.5f) {
        assertTrue(a[i] < 0, "shaped activation at z = " + z[i] + ": " + a[i]);
        negative++;
      }
    }
    assertTrue(negative > 10, "enough negative inputs: " + negative);
  }

  @Test
  void aClampToOtherBoundsOrAChainReadInsideIsNotReluSix() {
    DenseNets unit = net("max-min", 1f);
    GraphView g = GraphView.of(model(unit, "c/top").graph());
    assertTrue(ActivationMatcher.find(g).isEmpty(), ActivationMatcher.find(g).toString());
    NetworkAnalysis a = StructureAnalyzer.analyze(g, List.of("input"), List.of("output"));
    assertTrue(a.warnings().stream().anyMatch(w -> w.contains("'c/top' (Minimum) clamps")),
        a.warnings().toString());
    Model r = DksRewrite.pipeline(RewriteOptions.defaults()).build().run(
        model(net("max-min", 1f), "c/top")).model();
    assertTrue(GraphView.of(r.graph()).contains("c/top"), "the [0, 1] clamp stays");

    DenseNets shared = net("shared", 6f);
    GraphView gs = GraphView.of(model(shared, "c/sum").graph());
    assertTrue(ActivationMatcher.find(gs).stream().noneMatch(s -> s.kind().equals("relu6")),
        ActivationMatcher.find(gs).toString());
  }
}
