package dev.dks.rewriter.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.testing.DenseNets;
import dev.dks.solver.network.NetworkMaps;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

/**
 * A residual sum of three operands written as grappler's ArithmeticOptimizer does (an AddN, or a
 * chain of adds): h = dense(input), r1 = relu(dense(relu(dense(h)))) (2 layers), r2 =
 * relu(dense(h)) (1 layer), s = r1 + r2 + h, output = dense(s). As one merge of equal weights the
 * slope map is mu(x) = (x^2 + x + 1) / 3 (each branch's slope x^depth, averaged with fractions
 * 1/3), which is at least the deepest single branch beyond the others (x). Negative controls: the
 * same adds nested as two merges (the inner add read elsewhere too) give another map, and a
 * broadcasting add is no merge.
 */
public class MultiOperandMergeTest {
  public enum Form { ADDN, CHAIN, NESTED, BROADCAST }

  /** The built network: its parts (variables by name) and the model. */
  public record Net(DenseNets n, dev.dks.rewriter.model.Model model) {}

  /** The network in the given form, biases N(0, 0.1^2). */
  public static Net network(Form form) {
    DenseNets n = new DenseNets();
    TensorName h = n.dense(TensorName.of("input"));
    TensorName r1 = n.act("relu", n.dense(n.act("relu", n.dense(h))));
    TensorName r2 = n.act("relu", n.dense(h));
    TensorName s;
    switch (form) {
      case ADDN -> {
        n.g.add(Nodes.op("AddN", "sum/AddN").input(r1).input(r2).input(h)
            .type("T", DataType.DT_FLOAT).attr("N", AttrValue.newBuilder().setI(3).build())
            .build());
        s = TensorName.of("sum/AddN");
      }
      case CHAIN -> s = n.add("sum/outer", n.add("sum/inner", r1, r2), h);
      case NESTED -> {
        s = n.add("sum/outer", n.add("sum/inner", r1, r2), h);
        n.g.add(Nodes.op("Identity", "probe").input("sum/inner").type("T", DataType.DT_FLOAT)
            .build());
      }
      default -> {
        n.g.add(Nodes.constant("rows/axis", TensorProto.newBuilder()
            .setDtype(DataType.DT_INT32).addIntVal(1).build()));
        n.g.add(Nodes.op("Sum", "rows/sum").input(h).input("rows/axis")
            .type("T", DataType.DT_FLOAT).type("Tidx", DataType.DT_INT32)
            .attr("keep_dims", AttrValue.newBuilder().setB(true).build()).build());
        s = n.add("sum/outer", n.add("sum/inner", r1, r2), TensorName.of("rows/sum"));
      }
    }
    TensorName out = n.dense(s);
    n.randomBiases(0.1, 7);
    return new Net(n, n.model(out));
  }

  private static NetworkAnalysis analyze(Form form) {
    return StructureAnalyzer.analyze(network(form).n().g, List.of("input"), List.of("output"));
  }

  @Test
  void anAddNOfThreeBodyTensorsIsOneMergeWithTheClosedFormSlope() {
    for (Form form : List.of(Form.ADDN, Form.CHAIN)) {
      NetworkAnalysis a = analyze(form);
      String node = form == Form.ADDN ? "sum/AddN" : "sum/outer";
      assertEquals(List.of(node), a.residualMerges().stream().map(MergeSite::node).toList(),
          form.toString());
      MergeSite m = a.residualMerges().get(0);
      assertEquals(3, m.operands().size());
      // the residual is the 2-layer branch r1 (its relu), one layer deeper than r2
      assertEquals("act3", m.residual().node().substring(0, 4), m.toString());
      assertEquals(1, m.branchDepth());
      assertEquals(List.of(1.0, 1.0, 1.0), m.weights());
      assertTrue(!m.isNormalized());
      double third = 1.0 / 3;
      assertArrayEquals(new double[] {third, third, third},
          a.dag().nodes().get(a.dagIndex().get(node)).fractions(), 1e-12);
      NetworkMaps maps = NetworkMaps.of(a.structure());
      for (double x : new double[] {1.05, 1.3, 3.0}) {
        assertEquals((x * x + x + 1) / 3, maps.maxSlope(x), 1e-12, form + " at " + x);
      }
    }
  }

  @Test
  void nestedAddsReadElsewhereStayTwoMerges() {
    NetworkAnalysis a = analyze(Form.NESTED);
    assertEquals(List.of("sum/inner", "sum/outer"),
        a.residualMerges().stream().map(MergeSite::node).toList());
    NetworkMaps maps = NetworkMaps.of(a.structure());
    double x = 1.3;
    double nested = Math.max(((x * x + x) / 2 + 1) / 2, x * x);
    assertEquals(nested, maps.maxSlope(x), 1e-12);
    assertTrue(Math.abs(nested - (x * x + x + 1) / 3) > 0.1, "the control tells the forms apart");
  }

  @Test
  void aBroadcastingOperandEndsTheChainWithAReason() {
    NetworkAnalysis a = analyze(Form.BROADCAST);
    assertEquals(List.of("sum/inner"), a.residualMerges().stream().map(MergeSite::node).toList());
    assertEquals(2, a.residualMerges().get(0).operands().size());
    assertTrue(a.warnings().stream().anyMatch(w -> w.contains("'sum/outer'")
        && w.contains(StructureAnalyzer.NOT_A_SKIP) && w.contains("[-1, 16]")
        && w.contains("[-1, 1]")), a.warnings().toString());
  }
}
