package dev.dks.rewriter.pipeline;

/**
 * One named graph rewrite. A pass reads and edits the {@link RewriteContext}; it matches first,
 * then rewrites, and leaves alone (with a note) anything it does not understand rather than
 * corrupting the graph. The {@link Pipeline}, not the pass, owns iteration and verification.
 */
public interface RewritePass {
  /** A short kebab-case name used to list, skip and dump the pass, e.g. {@code strip-norm}. */
  String name();

  /** One line saying what the pass does. */
  String description();

  /** Applies the pass and says what changed. */
  PassOutcome run(RewriteContext context);
}
