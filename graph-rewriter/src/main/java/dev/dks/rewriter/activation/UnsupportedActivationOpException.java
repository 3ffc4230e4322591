package dev.dks.rewriter.activation;

/** An activation that has no standard-op emission (e.g. a user-supplied CustomActivation). */
public final class UnsupportedActivationOpException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  /** Names the activation. */
  public UnsupportedActivationOpException(String id) {
    super("activation '" + id + "' cannot be emitted as standard TensorFlow ops: use one of the "
        + "built-in activations (dks activations lists them)");
  }
}
