package dev.dks.rewriter.passes.freeze;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.pipeline.StructuralVerifier;
import dev.dks.rewriter.pipeline.TensorFlowVerifier;
import dev.dks.rewriter.testing.DenseNets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/** Freezing a network into Consts and thawing it back gives variables with the same values. */
class ConstantsToVariablesPassTest {
  @Test
  void frozenWeightsBecomeVariablesWithTheSameValuesAndOutputs() {
    DenseNets n = new DenseNets();
    Model live = n.model(n.dense(n.act("tanh", n.dense(TensorName.of("input")))));
    GraphView frozen = GraphView.of(live.graph());
    for (Map.Entry<String, TensorProto> v : live.variables().entrySet()) {
      frozen.put(Nodes.constant(v.getKey(), v.getValue()));
    }
    Model frozenModel = new Model(frozen.toGraphDef(), Map.of(), live.signatures());
    Pipeline.Result r = Pipeline.builder().verifier(new StructuralVerifier())
        .verifier(new TensorFlowVerifier(false)).add(new ConstantsToVariablesPass()).build()
        .run(frozenModel);
    assertEquals(live.variables().keySet(), r.model().variables().keySet());
    for (NodeDef node : r.model().graph().getNodeList()) {
      if (live.variables().containsKey(node.getName())) {
        assertEquals("VariableV2", node.getOp());
      }
    }
    TensorProto x = TensorProtos.ofFloats(new long[] {1, DenseNets.WIDTH},
        new float[DenseNets.WIDTH]);
    float[] a;
    float[] b;
    try (ModelSession s = new ModelSession(live)) {
      a = TensorProtos.floats(s.run(Map.of("input", x), List.of("output")).get("output"));
    }
    try (ModelSession s = new ModelSession(r.model())) {
      b = TensorProtos.floats(s.run(Map.of("input", x), List.of("output")).get("output"));
    }
    assertArrayEquals(a, b, 0f);
  }
}
