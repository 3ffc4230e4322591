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

  /**
   * True for a costly check (e.g. an import of the whole graph into TensorFlow) that a pipeline
   * may run once for several passes that changed the graph: it then runs on the input graph,
   * before the next structure analysis of a changed graph ({@link Analyses#of}), and after the
   * last pass, naming every pass since its previous run. False (the default): the check runs after
   * every pass that changed the graph.
   */
  default boolean deferrable() {
    return false;
  }
}
