package dev.dks.rewriter.passes.dks;

import dev.dks.rewriter.pipeline.RewriteContext;
import java.util.Set;

/** Removes nodes no output depends on, and the values of variables that went with them. */
final class PruneSupport {
  private PruneSupport() {}

  /** Prunes the context's graph to the ancestors of its outputs; returns the count removed. */
  static int pruneToOutputs(RewriteContext ctx) {
    int removed = ctx.graph().prune(ctx.outputs());
    Set<String> left = ctx.graph().ancestors(ctx.outputs());
    ctx.variables().keySet().removeIf(v -> !left.contains(v));
    return removed;
  }
}
