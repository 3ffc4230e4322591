package dev.dks.rewriter.pipeline;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.passes.norm.TestGraph;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;

/**
 * The final verifier's gradient check over several outputs (one joint {@code addGradients} call):
 * it still fails when one output's variable is reachable from another output only, and names that
 * output.
 */
class GradientCheckTest {
  /** outA = x v1, outB = x v2 (+ a control edge from v1 when asked), both outputs. */
  private static RewriteContext twoHeads(boolean controlOnlyDependency) {
    TestGraph t = new TestGraph(3);
    String x = t.placeholder("x", -1, 4);
    String v1 = t.normalVariable("v1", 0, 1, 4, 3);
    String v2 = t.normalVariable("v2", 0, 1, 4, 3);
    t.op("MatMul", "outA", x, v1);
    Nodes.Builder b = Nodes.op("MatMul", "outB").type("T", DataType.DT_FLOAT).input(x).input(v2);
    if (controlOnlyDependency) {
      b.input("^" + v1);
    }
    t.add(b.build());
    return new RewriteContext(GraphView.of(t.graph()), t.variables(), List.of(x),
        List.of("outA", "outB"));
  }

  @Test
  void everyOutputsVariablesGetGradients() {
    assertDoesNotThrow(() -> new TensorFlowVerifier(true).verify(twoHeads(false), "test"));
  }

  @Test
  void aVariableThatFeedsAnOutputOnlyThroughAControlEdgeFailsNamingThatOutput() {
    // jointly, v1 gets a gradient through outA; per output, outB depends on v1 (control edge)
    // without a gradient path: the check must fail as the one-output-at-a-time check did
    GraphVerificationException e = assertThrows(GraphVerificationException.class,
        () -> new TensorFlowVerifier(true).verify(twoHeads(true), "test"));
    assertTrue(e.getMessage().contains("'outB") && e.getMessage().contains(
        "do not all get gradients"), e.getMessage());
  }

  @Test
  void withoutGradientsTheControlEdgeIsFine() {
    assertDoesNotThrow(() -> new TensorFlowVerifier(false).verify(twoHeads(true), "test"));
  }
}
