package dev.dks.rewriter.pipeline;

import dev.dks.rewriter.analysis.NetworkAnalysis;
import dev.dks.rewriter.analysis.StructureAnalyzer;
import java.util.Map;

/**
 * The structure analysis of a pipeline's graph, computed at most once per state of the graph.
 *
 * <p>Several passes and the final gradient check analyze the graph ({@link
 * StructureAnalyzer#analyze}); on a 2500-node graph one analysis costs tens of milliseconds, most
 * of it TensorFlow's shape inference (an import of the whole graph). Two facts in the {@link
 * RewriteContext} avoid repeating that work (and a pipeline's deferred TensorFlow check of the
 * graph, {@link GraphVerifier#deferrable()}, runs first, so that its import is the one read):
 *
 * <ul>
 *   <li>the last analysis, reused while the graph's {@link
 *       dev.dks.rewriter.graph.GraphView#modificationCount() modification count} is unchanged
 *       (e.g. body-check and constants-to-variables analyze the same graph; dks-init only sets
 *       variable values, so the final gradient check reads its analysis);
 *   <li>the static output-0 shapes of the graph's last TensorFlow import ({@link
 *       TensorFlowVerifier} records them), handed to the analysis instead of importing the same
 *       graph again.
 * </ul>
 *
 * The analysis depends only on the graph, the input and the output names (the last two are fixed
 * for a context), and the shapes are those of the same GraphDef imported the same way ({@link
 * dev.dks.rewriter.graph.CheckingGraphs}), so a reused result is the one a new analysis would
 * compute. A refused analysis is not cached (it is refused again on the next call).
 */
public final class Analyses {
  private Analyses() {}

  /** The analysis of the graph at one modification count. */
  record Cached(long modification, NetworkAnalysis analysis) {}

  /** Output-0 static shapes by node (known ones only) of the graph at one modification count. */
  record Shapes(long modification, Map<String, long[]> byNode) {}

  /** {@link StructureAnalyzer#analyze} of the context's graph, inputs and outputs. */
  public static NetworkAnalysis of(RewriteContext ctx) {
    // the pipeline's deferred TensorFlow check of this graph state: it imports the graph anyway
    ctx.runDeferredChecks(true);
    long now = ctx.graph().modificationCount();
    Cached c = ctx.fact(Cached.class).orElse(null);
    if (c != null && c.modification() == now) {
      return c.analysis();
    }
    Shapes s = ctx.fact(Shapes.class).orElse(null);
    Map<String, long[]> shapes = s != null && s.modification() == now ? s.byNode() : null;
    NetworkAnalysis a = StructureAnalyzer.analyze(ctx.graph(), ctx.inputs(), ctx.outputs(),
        shapes);
    ctx.putFact(Cached.class, new Cached(now, a));
    return a;
  }

  /**
   * Records the output-0 shapes of the graph as it is now (from an import of exactly its current
   * GraphDef), for the next analysis of the same graph.
   */
  static void recordShapes(RewriteContext ctx, Map<String, long[]> byNode) {
    ctx.putFact(Shapes.class, new Shapes(ctx.graph().modificationCount(), Map.copyOf(byNode)));
  }
}
