package dev.dks.rewriter.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.analysis.MergeSite;
import dev.dks.rewriter.analysis.NetworkAnalysis;
import dev.dks.rewriter.analysis.StructureAnalyzer;
import dev.dks.rewriter.graph.CheckingGraphs;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.testing.DenseNets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;

/**
 * {@link Analyses}: the structure analysis is computed once per state of the graph, and the shapes
 * the TensorFlow verifier recorded are the ones the analysis reads, only for the graph state they
 * were taken from. The network: a dense stem, one residual block (a same-shape AddV2), and a head
 * that adds a [-1,16] tensor to a [-1,1] one (a broadcast, which only the static shapes tell from
 * a residual merge).
 */
class AnalysesTest {
  private static Model network() {
    return DenseNets.residualBlockAndBroadcastHead();
  }


  private static RewriteContext context(Model m) {
    return new RewriteContext(GraphView.of(m.graph()), m.variables(), List.of("input"),
        List.of("output"));
  }

  private static List<String> merges(NetworkAnalysis a) {
    return a.residualMerges().stream().map(MergeSite::node).toList();
  }

  private static boolean broadcastWarning(NetworkAnalysis a) {
    return a.warnings().stream().anyMatch(w -> w.contains("'head/add'")
        && w.contains(StructureAnalyzer.NOT_A_SKIP) && w.contains("[-1, 16]")
        && w.contains("[-1, 1]"));
  }

  @Test
  void anUnchangedGraphIsAnalyzedOnceAndAChangedOneAgain() {
    RewriteContext ctx = context(network());
    NetworkAnalysis first = Analyses.of(ctx);
    assertSame(first, Analyses.of(ctx));
    // a change the analysis does not see still makes a new one, equal to a fresh analysis
    ctx.graph().add(Nodes.constant("unused", TensorProtos.ofFloats(new long[] {1},
        new float[] {1f})));
    NetworkAnalysis second = Analyses.of(ctx);
    assertNotSame(first, second);
    NetworkAnalysis fresh = StructureAnalyzer.analyze(ctx.graph(), ctx.inputs(), ctx.outputs());
    assertEquals(fresh.layers(), second.layers());
    assertEquals(fresh.warnings(), second.warnings());
    assertEquals(fresh.body(), second.body());
    assertEquals(fresh.bodyOutputs(), second.bodyOutputs());
    assertEquals(List.of("block/add"), merges(second));
    assertTrue(broadcastWarning(second), second.warnings().toString());
  }

  @Test
  void theVerifierRecordsTheShapesOfItsImportForTheAnalysis() {
    RewriteContext ctx = context(network());
    new TensorFlowVerifier(false).verify(ctx, "test");
    Analyses.Shapes recorded = ctx.fact(Analyses.Shapes.class).orElseThrow();
    assertEquals(ctx.graph().modificationCount(), recorded.modification());
    // the same shapes as a separate import of the graph
    Map<String, long[]> own;
    try (Graph g = new Graph()) {
      CheckingGraphs.importForChecks(g, ctx.graph().toGraphDef());
      own = StructureAnalyzer.shapes(g, ctx.graph());
    }
    assertEquals(own.keySet(), recorded.byNode().keySet());
    own.forEach((k, v) -> assertArrayEquals(v, recorded.byNode().get(k), k));
    assertArrayEquals(new long[] {-1, 16}, recorded.byNode().get("head/add"));
    NetworkAnalysis a = Analyses.of(ctx);
    assertEquals(List.of("block/add"), merges(a));
    assertTrue(broadcastWarning(a), a.warnings().toString());
  }

  @Test
  void recordedShapesAreReadOnlyForTheGraphStateTheyCameFrom() {
    RewriteContext ctx = context(network());
    new TensorFlowVerifier(false).verify(ctx, "test");
    // forged shapes: head/add's operands alike, so the analysis would see no broadcast there
    Map<String, long[]> forged = new HashMap<>(ctx.fact(Analyses.Shapes.class).orElseThrow()
        .byNode());
    String sum = "head/sum";
    String dense = ctx.graph().get("head/add").getInput(0);
    forged.put(sum, forged.get(TensorName.parse(dense).node()));
    Analyses.recordShapes(ctx, forged);
    NetworkAnalysis read = Analyses.of(ctx);
    // control: the analysis reads the recorded shapes (the broadcast is no longer seen)
    assertTrue(!broadcastWarning(read), read.warnings().toString());
    // after a change the forged shapes are stale: the analysis infers its own again
    ctx.graph().add(Nodes.constant("unused", TensorProtos.ofFloats(new long[] {1},
        new float[] {1f})));
    NetworkAnalysis after = Analyses.of(ctx);
    assertEquals(List.of("block/add"), merges(after));
    assertTrue(broadcastWarning(after), after.warnings().toString());
  }
}
