package dev.dks.rewriter.pipeline;

/** The graph broke an invariant; the message names the stage (pass), the node and the op. */
public final class GraphVerificationException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** An error naming what is wrong and where. */
  public GraphVerificationException(String message) {
    super(message);
  }

  /** An error with a cause (e.g. TensorFlow's import error). */
  public GraphVerificationException(String message, Throwable cause) {
    super(message, cause);
  }
}
