package dev.dks.solver.solve;

/** The method needs a network function that was not supplied (a Structure, or the maximal slope or curvature function). */
public final class MissingNetworkMapException extends ShapingException {
  private static final long serialVersionUID = 1L;

  /** An error with a message that says what to change. */
  public MissingNetworkMapException(String message) {
    super(message);
  }
}
