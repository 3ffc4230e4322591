package dev.dks.rewriter.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.testing.DenseNets;
import dev.dks.solver.network.NetworkMaps;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The derived structure's network maps against closed forms of the hand-built networks. */
class StructureAnalyzerTest {

  @Test
  void plainChainHasSlopeXToTheL() {
    DenseNets n = new DenseNets();
    TensorName x = TensorName.of("input");
    int depth = 7;
    for (int i = 0; i < depth; i++) {
      x = n.act("tanh", n.dense(x));
    }
    n.model(n.dense(x));
    NetworkAnalysis a = StructureAnalyzer.analyze(n.g, List.of("input"), List.of("output"));
    assertEquals(depth, a.activations().size());
    assertEquals(depth + 1, a.layers().size());
    assertEquals(depth, a.dag().depth());
    NetworkMaps maps = NetworkMaps.of(a.structure());
    for (double v : new double[] {1.01, 1.2, 2.0}) {
      assertEquals(Math.pow(v, depth), maps.maxSlope(v), 1e-12 * Math.pow(v, depth));
    }
    assertEquals(depth * 0.1, maps.maxCurvature(0.1), 1e-12);
    assertTrue(a.merges().isEmpty());
  }

  /**
   * Two residual blocks h -> AddV2(h, relu(dense(relu(dense(h))))) after a dense stem: with
   * unnormalized adds read as weights 1/sqrt(2), a block maps slope s to s/2 + x^2 s/2, and the
   * maximal subnetwork also includes the 2-layer residual branch alone: mu(x) = max(((1 +
   * x^2)/2)^2, x^2). A dense layer follows the blocks (without it the last block would be the
   * head: nothing trainable after it).
   */
  @Test
  void residualBlocksGiveTheClosedFormSlope() {
    DenseNets n = new DenseNets();
    TensorName h = n.dense(TensorName.of("input"));
    for (int b = 0; b < 2; b++) {
      TensorName r = n.act("relu", n.dense(n.act("relu", n.dense(h))));
      h = n.add("block" + b + "/add", r, h);
    }
    n.model(n.dense(h));
    NetworkAnalysis a = StructureAnalyzer.analyze(n.g, List.of("input"), List.of("output"));
    assertEquals(2, a.residualMerges().size());
    for (MergeSite m : a.residualMerges()) {
      assertEquals(2, m.branchDepth());
      assertTrue(m.residual().node().startsWith("act"), m.toString());
      assertTrue(!m.isNormalized());
    }
    NetworkMaps maps = NetworkMaps.of(a.structure());
    for (double x : new double[] {1.05, 1.3, 3.0}) {
      double block = (1 + x * x) / 2;
      assertEquals(Math.max(block * block, x * x), maps.maxSlope(x), 1e-12);
    }
    assertTrue(a.warnings().stream().anyMatch(w -> w.contains("not a normalized sum")));
  }

  @Test
  void emittedCompositeActivationsAreRecognised() {
    for (String kind : List.of("swish", "gelu", "gelu_exact")) {
      DenseNets n = new DenseNets();
      n.model(n.act(kind, n.dense(TensorName.of("input"))));
      List<ActivationSite> sites = ActivationMatcher.find(n.g);
      assertEquals(1, sites.size(), kind + " " + sites);
      assertEquals(kind, sites.get(0).kind());
      assertEquals("dense1/BiasAdd", sites.get(0).input().node());
    }
  }

  @Test
  void singleOpActivationsAndLeakyAlpha() {
    GraphView g = new DenseNets().g;
    g.add(dev.dks.rewriter.graph.Nodes.op("LeakyRelu", "lr").input("input")
        .type("T", org.tensorflow.proto.DataType.DT_FLOAT).attr("alpha", 0.3f).build());
    List<ActivationSite> sites = ActivationMatcher.find(g);
    assertEquals(1, sites.size());
    assertEquals("leaky_relu", sites.get(0).kind());
    assertEquals(0.3, sites.get(0).parameter(), 1e-7);
  }
}
