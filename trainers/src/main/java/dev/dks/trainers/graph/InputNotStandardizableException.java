package dev.dks.trainers.graph;

/**
 * Standardization was asked for ({@code dks train --standardize on}) but the model's serving input
 * is not a float32 {@code [-1, h, w, C]} image with the data's channel count, so there is no
 * channel axis to standardize on. The message is one line naming the input, its dtype and shape,
 * and what to do.
 */
public final class InputNotStandardizableException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  /** With a one-line message. */
  public InputNotStandardizableException(String message) {
    super(message);
  }
}
