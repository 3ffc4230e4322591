package dev.dks.rewriter.passes.norm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.passes.defaults.FillDefaultAttrsPass;
import dev.dks.rewriter.passes.norm.StripNormalizationPass.Mode;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.pipeline.StructuralVerifier;
import dev.dks.rewriter.pipeline.TensorFlowVerifier;
import dev.dks.rewriter.testing.SharedModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.types.TFloat32;

/**
 * strip-norm on a real TF 1.15 SavedModel: Teachable Machine's MobileNetV2 (alpha 0.35) with 52
 * FusedBatchNormV3 on the serving path. The graph is pruned to the serving output, its resource
 * variables are turned into VariableV2 here (a test-local stand-in for the resource-variable
 * pass), and the variable values are read through the bundle's session.
 */
class MobileNetV2FoldTest {
  static final String MODEL = "tm_mobilenetv2_035_tf115";
  static final Set<String> BN = FusedBatchNormStripTest.BN_OPS;
  static final long[] IN = {1, 224, 224, 3};

  static Model model;
  static String input;
  static String output;
  static String logits;
  static TensorProto x;
  static float[] bundleOutput;
  static float[] bundleLogits;

  @BeforeAll
  static void load() {
    Path dir = SharedModels.require(MODEL);
    try (SavedModelBundle b = SavedModelBundle.load(dir.toString(), "serve")) {
      SignatureDef sig = b.metaGraphDef().getSignatureDefMap().get("serving_default");
      input = sig.getInputsMap().values().iterator().next().getName();
      output = sig.getOutputsMap().values().iterator().next().getName();
      GraphView g = GraphView.of(b.graph().toGraphDef());
      String outNode = TensorName.parse(output).node();
      g.prune(List.of(outNode));
      logits = g.get(outNode).getInput(0);
      Map<String, String> reads = resourceToVariableV2(g);
      Map<String, TensorProto> values = new LinkedHashMap<>();
      List<String> names = new ArrayList<>(reads.keySet());
      Session.Runner r = b.session().runner();
      names.forEach(v -> r.fetch(reads.get(v)));
      try (Result res = r.run()) {
        for (int i = 0; i < names.size(); i++) {
          values.put(names.get(i), TensorProtos.fromTensor(res.get(i)));
        }
      }
      model = TestGraph.model(g.toGraphDef(), values, input, new long[] {-1, 224, 224, 3},
          output);
      x = new TestGraph(99).randomInput(IN);
      try (TFloat32 xt = TensorProtos.toTensor(x);
          Result res = b.session().runner().feed(input, xt).fetch(output).fetch(logits).run()) {
        bundleOutput = TensorProtos.floats(TensorProtos.fromTensor(res.get(0)));
        bundleLogits = TensorProtos.floats(TensorProtos.fromTensor(res.get(1)));
      }
    }
  }


  /**
   * VarHandleOp -> VariableV2 and ReadVariableOp -> Identity, in place; returns, per variable, a
   * tensor through which the bundle's session reads its value.
   */
  static Map<String, String> resourceToVariableV2(GraphView g) {
    Map<String, String> reads = new LinkedHashMap<>();
    for (NodeDef n : g.nodes()) {
      if (n.getOp().equals("ReadVariableOp")) {
        String v = TensorName.parse(n.getInput(0)).node();
        reads.putIfAbsent(v, n.getName() + ":0");
        g.put(Nodes.op("Identity", n.getName()).inputs(n.getInputList())
            .type("T", n.getAttrOrThrow("dtype").getType()).device(n.getDevice()).build());
      }
    }
    for (NodeDef n : g.nodes()) {
      if (n.getOp().equals("VarHandleOp")) {
        g.put(Nodes.op("VariableV2", n.getName()).type("dtype", n.getAttrOrThrow("dtype")
                .getType()).attr("shape", n.getAttrOrThrow("shape")).attr("container", "")
            .attr("shared_name", "").device(n.getDevice()).build());
      }
    }
    return reads;
  }

  static Pipeline.Result rewrite(Mode mode) {
    return Pipeline.builder().add(new FillDefaultAttrsPass())
        .add(new StripNormalizationPass(mode)).verifier(new StructuralVerifier())
        .verifier(new TensorFlowVerifier(true)).build().run(model);
  }

  static long count(GraphDef g, Set<String> ops, String root) {
    GraphView v = GraphView.of(g);
    Set<String> live = v.ancestors(List.of(root));
    return g.getNodeList().stream().filter(n -> ops.contains(n.getOp())
        && live.contains(n.getName())).count();
  }

  @Test
  void theConvertedModelComputesWhatTheBundleComputes() {
    assertEquals(52, count(model.graph(), BN, TensorName.parse(output).node()));
    try (ModelSession s = new ModelSession(model)) {
      Map<String, TensorProto> out = s.run(Map.of(input, x), List.of(output));
      double d = TestGraph.maxAbsDiff(bundleOutput, TensorProtos.floats(out.get(output)));
      assertTrue(d < 1e-6, "converted vs bundle: " + d);
    }
  }

  @Test
  void foldKeepsTheOutputsAndLeavesNoBatchNorm() {
    Pipeline.Result r = rewrite(Mode.FOLD);
    PassOutcome o = r.outcomes().get(1);
    assertEquals(52, o.changes(), String.join("\n", o.notes()));
    assertEquals(0, count(r.model().graph(), BN, TensorName.parse(output).node()));
    assertEquals(0, r.model().graph().getNodeList().stream()
        .filter(n -> BN.contains(n.getOp())).count());
    float[] y;
    float[] z;
    try (ModelSession s = new ModelSession(r.model())) {
      Map<String, TensorProto> out = s.run(Map.of(input, x), List.of(output, logits));
      y = TensorProtos.floats(out.get(output));
      z = TensorProtos.floats(out.get(logits));
    }
    double scale = Math.max(1e-6, TestGraph.maxAbs(bundleLogits));
    double dz = TestGraph.maxAbsDiff(bundleLogits, z) / scale;
    double dy = TestGraph.maxAbsDiff(bundleOutput, y);
    System.out.printf("mobilenetv2 FOLD: logits max |diff| / max |logit| = %.3g, softmax max "
        + "|diff| = %.3g, nodes %d -> %d%n", dz, dy, model.graph().getNodeCount(),
        r.model().graph().getNodeCount());
    assertTrue(dz < 1e-3, "relative logits diff " + dz);
    assertTrue(dy < 1e-3, "softmax diff " + dy);
  }

  @Test
  void removeTakesOutAll52AndTheirVariables() {
    Pipeline.Result r = rewrite(Mode.REMOVE);
    PassOutcome o = r.outcomes().get(1);
    assertEquals(52, o.changes(), String.join("\n", o.notes()));
    assertEquals(0, r.model().graph().getNodeList().stream()
        .filter(n -> BN.contains(n.getOp())).count());
    assertEquals(model.variables().size() - 4 * 52, r.model().variables().size());
    for (String v : r.model().variables().keySet()) {
      assertFalse(v.endsWith("/gamma") || v.endsWith("/beta") || v.endsWith("/moving_mean")
          || v.endsWith("/moving_variance"), v);
    }
    for (NodeDef n : r.model().graph().getNodeList()) {
      assertTrue(!n.getOp().equals("VariableV2") || r.model().variables().containsKey(
          n.getName()), "a VariableV2 without value: " + n.getName());
    }
    try (ModelSession s = new ModelSession(r.model())) {
      float[] y = TensorProtos.floats(s.run(Map.of(input, x), List.of(output)).get(output));
      assertEquals(2, y.length);
      assertTrue(Float.isFinite(y[0]) && Float.isFinite(y[1]));
    }
    assertTrue(r.model().graph().getNodeList().stream()
        .noneMatch(n -> n.getOp().equals("VariableV2")
            && n.getAttrOrThrow("dtype").getType() != DataType.DT_FLOAT));
  }
}
