package dev.dks.solver.solve;

/** No start point led the local root solve to activation parameters that meet the conditions. */
public final class NoRootFoundException extends ShapingException {
  private static final long serialVersionUID = 1L;

  /** An error with a message that says what to change. */
  public NoRootFoundException(String message) {
    super(message);
  }
}
