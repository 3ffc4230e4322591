package dev.dks.solver.solve;

/** A target is outside its valid range (zeta <= 1, tau <= 0, eta outside [0, 1], a non-positive Q slope target). */
public final class InvalidTargetException extends ShapingException {
  private static final long serialVersionUID = 1L;

  /** An error with a message that says what to change. */
  public InvalidTargetException(String message) {
    super(message);
  }
}
