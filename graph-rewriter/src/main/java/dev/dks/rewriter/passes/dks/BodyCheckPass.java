package dev.dks.rewriter.passes.dks;

import dev.dks.rewriter.analysis.BodyConditionals;
import dev.dks.rewriter.analysis.NetworkAnalysis;
import dev.dks.rewriter.pipeline.Analyses;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.RewriteContext;
import dev.dks.rewriter.pipeline.RewritePass;

/**
 * "body-check": refuses, before anything is rewritten, a body the rewritten model could not be
 * trained with: a {@code tf.cond} (Switch/Merge, If) before the last layer ({@link
 * BodyConditionals}; a loop there is refused by the analysis itself). Changes nothing.
 */
public final class BodyCheckPass implements RewritePass {
  /** The pass's name. */
  public static final String NAME = "body-check";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "refuse a body that cannot be trained (tf.cond before the last layer)";
  }

  @Override
  public PassOutcome run(RewriteContext ctx) {
    if (ctx.inputs().isEmpty()) {
      return PassOutcome.unchanged(name(), "no input nodes are known (no signature inputs)");
    }
    NetworkAnalysis a = Analyses.of(ctx);
    BodyConditionals.refuse(ctx.graph(), a, ctx.inputs());
    return PassOutcome.unchanged(name(), "no tf.cond in the body");
  }
}
