package dev.dks.rewriter.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dks.rewriter.DksRewrite;
import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.testing.DenseNets;
import dev.dks.solver.solve.Method;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A residual block whose branch is linear, {@code x + W x} after an activation (blazeface /
 * facemesh-detection: relu -> depthwise -> 1x1 conv -> add with the relu's output), is a residual
 * merge with the layer's side as the residual operand. Before, both operands had the same root
 * (the activation), so the add was taken for a per-location rescaling: not a merge, never
 * removed, and q doubled at each of facemesh-detection-short's 16 blocks (measured 1.4e8 at its
 * last layer, predicted 1). Measured after the default rewrite at width 128 over 512 Gaussian
 * inputs (DKS softplus): q = 1 where the second activation reads (the skip is gone). Control: the same rewrite without the
 * skips pass keeps {@code x + W x}, whose q is 2 (|x + W x|^2 = 2 |x|^2 + 2 x.Wx, and x.Wx is
 * about 0 for a Haar-random orthogonal W and a zero-mean x). (With TAT, this two-layer net gets
 * TReLU slope 0, a ReLU, whose mean direction is common to all inputs: one weight draw then
 * deviates by O(1/sqrt(width)), q 2.18 for the control and 1.27 after the second ReLU.)
 */
class LinearBranchMergeTest {
  private static final int WIDTH = 128;

  /** dense1 -> relu -> (x + dense2(x)) -> relu -> dense3. */
  private static Model net() {
    DenseNets n = new DenseNets(WIDTH);
    TensorName x = n.act("relu", n.dense(TensorName.of("input")));
    TensorName sum = n.add("block/add", x, n.dense(x));
    return n.model(n.dense(n.act("relu", sum)));
  }

  @Test
  void anAddOfATensorAndALinearLayerOfItIsAResidualMerge() {
    Model m = net();
    NetworkAnalysis a = StructureAnalyzer.analyze(GraphView.of(m.graph()), List.of("input"),
        List.of("output"));
    assertEquals(List.of("block/add"), a.residualMerges().stream().map(MergeSite::node)
        .toList());
    assertEquals(TensorName.of("dense2/BiasAdd"), a.residualMerges().get(0).residual());
    assertEquals(2, a.dag().depth(), "two nonlinear layers in series");
  }

  /**
   * The add of two affine functions of the same layer's output, {@code h + (h - 1)} with h =
   * dense2(x) (a layer norm's {@code h * a + (beta - mean * a)} has this shape), is a
   * per-location rescaling, not a residual merge: both operands come after the same last layer.
   */
  @Test
  void anAddOfTwoFunctionsOfTheSameLayerIsNoMerge() {
    DenseNets n = new DenseNets(WIDTH);
    TensorName x = n.act("relu", n.dense(TensorName.of("input")));
    TensorName h = n.dense(x);
    n.g.add(dev.dks.rewriter.graph.Nodes.floatScalar("one", 1f));
    n.g.add(dev.dks.rewriter.graph.Nodes.op("Sub", "h_minus_one").input(h.toString())
        .input("one").type("T", org.tensorflow.proto.DataType.DT_FLOAT).build());
    TensorName sum = n.add("block/add", h, TensorName.of("h_minus_one"));
    Model m = n.model(n.dense(n.act("relu", sum)));
    NetworkAnalysis a = StructureAnalyzer.analyze(GraphView.of(m.graph()), List.of("input"),
        List.of("output"));
    assertEquals(List.of(), a.residualMerges(), a.warnings().toString());
    assertEquals(List.of(), a.warnings());
    assertEquals(2, a.dag().depth());
  }

  @Test
  void theRewriteRemovesItAndKeepsQOne() {
    // DKS: the shaped softplus has mean 0 (C(0) = 0), so x.Wx has no common part
    RewriteOptions o = RewriteOptions.defaults().withMethod(Method.DKS).withActivation("softplus");
    assertEquals(1.0, qAtSecondActivation(DksRewrite.pipeline(o).build().run(net()).model()),
        0.05, "skip removed");
    assertEquals(2.0, qAtSecondActivation(DksRewrite.pipeline(o).skip("skips").build()
        .run(net()).model()), 0.1, "control: x + Wx kept");
  }

  /** q of the tensor the second (shaped) activation reads, over 512 Gaussian inputs. */
  private static double qAtSecondActivation(Model r) {
    GraphView g = GraphView.of(r.graph());
    String read = g.nodes().stream()
        .filter(n -> n.getName().startsWith("act2") && n.getInputCount() > 0)
        .map(n -> n.getInput(0)).filter(i -> !i.startsWith("act2")).findFirst().orElseThrow();
    float[] v;
    try (ModelSession s = new ModelSession(r)) {
      v = TensorProtos.floats(s.run(Map.of("input", DenseNets.gaussianInput(512, WIDTH, 5)),
          List.of(read)).get(read));
    }
    double q = 0;
    for (float x : v) {
      q += (double) x * x / v.length;
    }
    return q;
  }
}
