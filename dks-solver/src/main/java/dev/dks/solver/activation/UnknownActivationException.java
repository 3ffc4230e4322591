package dev.dks.solver.activation;

import java.util.List;

/** Thrown for an activation name that is not in the table; the message lists the valid names. */
public final class UnknownActivationException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  /** The unknown name and the names that would have been accepted. */
  public UnknownActivationException(String name, List<String> known) {
    super("unknown activation '" + name + "': use one of " + String.join(", ", known)
        + " (from Java, a CustomActivation takes any other function)");
  }
}
