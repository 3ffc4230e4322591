package dev.dks.solver.solve;

/** The network-level target cannot be met by this architecture (the scalar bisection for xi, tau_loc or the leaky ReLU slope ran out of evaluations). */
public final class UnreachableTargetException extends ShapingException {
  private static final long serialVersionUID = 1L;

  /** An error with a message that says what to change. */
  public UnreachableTargetException(String message) {
    super(message);
  }
}
