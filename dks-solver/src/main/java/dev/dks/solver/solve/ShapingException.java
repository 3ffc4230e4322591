package dev.dks.solver.solve;

/**
 * Base of every error a DKS/TAT solve reports. Messages say what to change (a target, the
 * activation, the architecture). Subclasses name the kind of failure.
 */
public class ShapingException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** An error with a message that says what to change. */
  public ShapingException(String message) {
    super(message);
  }
}
