package dev.dks.rewriter.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.DksRewrite;
import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.analysis.NetworkAnalysis;
import dev.dks.rewriter.analysis.StructureAnalyzer;
import dev.dks.rewriter.graph.GraphImport;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.testing.DenseNets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;

/**
 * The finite-width layout of a rewritten network whose input goes through per-location
 * normalization with a homogeneous coordinate (W features become W + 1, where the kernel check's
 * pairs start): the normalized input has its declared width W + 1, and so has every node after
 * it a known width, so the check can simulate the pairs at the network's own widths (before, the
 * normalized input's width was unknown (-1) and every such model fell back to the infinite-width
 * maps). Control: the raw input keeps W. Pairs started at the raw input cannot pass that width
 * change (the simulation copies units through it), so no prediction is made from there.
 */
@Tag("tf")
class PlnStartLayoutTest {
  @Test
  void normalizedInputWithHomogeneousCoordinateHasItsDeclaredWidth() {
    DenseNets n = new DenseNets();
    TensorName h = n.act("tanh", n.dense(TensorName.of("input")));
    Model m = n.model(n.dense(n.act("tanh", n.dense(h))));
    Model r = DksRewrite.pipeline(RewriteOptions.defaults()).build().run(m).model();
    GraphView g = GraphView.of(r.graph());
    NetworkAnalysis a = StructureAnalyzer.analyze(g, List.of("input"), List.of("output"));
    Integer start = a.dagIndex().get("input/pln/normalized");
    assertTrue(start != null, a.dagIndex().keySet().toString());
    try (Graph tg = new Graph()) {
      GraphImport.into(tg, r.graph());
      FiniteWidthPairs.Layout layout = FiniteWidthPairs.layout(tg, g, a);
      assertEquals(DenseNets.WIDTH, layout.width()[0]);
      assertEquals(DenseNets.WIDTH + 1, layout.width()[start]);
      for (int i = start; i < layout.width().length; i++) {
        assertTrue(layout.width()[i] > 0, "node " + i + " of " + a.dag());
      }
      assertNotNull(FiniteWidthPairs.predict(a.dag(), Map.of(), layout, start, 0.5, start));
      assertNull(FiniteWidthPairs.predict(a.dag(), Map.of(), layout, 0, 0.5, start));
    }
  }
}
