package dev.dks.solver.solve;

/** The activation cannot be shaped by the chosen method (relu under TAT, leaky_relu mixed with other activations under TAT, an activation whose first derivative jumps under TAT for smooth activations). */
public final class UnsupportedActivationException extends ShapingException {
  private static final long serialVersionUID = 1L;

  /** An error with a message that says what to change. */
  public UnsupportedActivationException(String message) {
    super(message);
  }
}
