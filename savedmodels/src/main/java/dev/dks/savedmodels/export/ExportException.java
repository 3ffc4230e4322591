package dev.dks.savedmodels.export;

/**
 * The model cannot be exported for serving; the message names the node, op or folder and says
 * what to do. Nothing was written (or the partial output was removed).
 */
public final class ExportException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** An error that says what is wrong and what to do. */
  public ExportException(String message) {
    super(message);
  }

  /** An error with its cause. */
  public ExportException(String message, Throwable cause) {
    super(message, cause);
  }
}
