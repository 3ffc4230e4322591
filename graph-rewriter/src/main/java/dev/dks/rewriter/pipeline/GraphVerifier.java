package dev.dks.rewriter.pipeline;

/** Checks graph invariants between passes. */
public interface GraphVerifier {
  /**
   * Verifies the context's graph.
   *
   * @param stage where the pipeline is, e.g. {@code "after strip-norm"}, for messages
   * @throws GraphVerificationException naming the stage, node and op when an invariant fails
   */
  void verify(RewriteContext context, String stage);
}
