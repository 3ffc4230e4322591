package dev.dks.savedmodels;

/**
 * A model folder or file that cannot be read: missing or corrupt files, no meta graph with the
 * asked tags, no usable signature. The message names the path and what is wrong.
 */
public final class ModelFormatException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** An error naming the path and the problem. */
  public ModelFormatException(String message) {
    super(message);
  }

  /** An error with its cause (e.g. TensorFlow's load error). */
  public ModelFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
