package dev.dks.rewriter.passes.freeze;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.passes.norm.TestGraph;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.pipeline.StructuralVerifier;
import dev.dks.rewriter.pipeline.TensorFlowVerifier;
import dev.dks.rewriter.testing.DenseNets;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * Freezing a network into Consts and thawing it back gives variables holding exactly the frozen
 * values, and the thawed network computes what the live one computes on random inputs (non-zero
 * biases, so that every kernel and bias matters), to {@link #TOLERANCE}; a thawed network with
 * one perturbed value fails that comparison.
 */
class ConstantsToVariablesPassTest {
  /**
   * Outputs before and after: same ops, same float32 values, so they agree to rounding (measured
   * 0); a 1e-3 change of one kernel entry moves the outputs by about 1e-3.
   */
  private static final double TOLERANCE = 1e-6;

  @Test
  void frozenWeightsBecomeVariablesWithTheSameValuesAndOutputs() {
    DenseNets n = new DenseNets();
    Model live = n.model(n.dense(n.act("tanh", n.dense(TensorName.of("input")))));
    n.randomBiases(0.5, 3);
    live = live.with(live.graph(), n.vars);
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
    for (Map.Entry<String, TensorProto> v : live.variables().entrySet()) {
      float[] want = TensorProtos.floats(v.getValue());
      assertTrue(TestGraph.maxAbs(want) > 0.1, v.getKey() + " should not be all zero");
      assertArrayEquals(TensorProtos.shape(v.getValue()),
          TensorProtos.shape(r.model().variables().get(v.getKey())), v.getKey());
      assertArrayEquals(want, TensorProtos.floats(r.model().variables().get(v.getKey())), 0f,
          v.getKey());
    }

    TensorProto x = DenseNets.gaussianInput(4, DenseNets.WIDTH, 11);
    float[] before = DenseNets.run(live, x);
    float[] after = DenseNets.run(r.model(), x);
    assertTrue(TestGraph.maxAbs(before) > 0.5, "the test output should not be trivial");
    double d = TestGraph.maxAbsDiff(before, after);
    assertTrue(d <= TOLERANCE, "before vs after: " + d);

    // negative control: one kernel entry of the first layer off by 1e-3
    Map<String, TensorProto> wrong = new HashMap<>(r.model().variables());
    float[] k = TensorProtos.floats(wrong.get("dense1/kernel"));
    k[0] += 1e-3f;
    wrong.put("dense1/kernel", TensorProtos.ofFloats(
        TensorProtos.shape(wrong.get("dense1/kernel")), k));
    double dw = TestGraph.maxAbsDiff(before, DenseNets.run(r.model().with(r.model().graph(),
        wrong), x));
    assertTrue(dw > 100 * TOLERANCE, "a perturbed kernel must fail the comparison: " + dw);
  }
}
