package dev.dks.trainers.distributed;

/**
 * A cluster description ({@code TF_CONFIG}, {@code --cluster FILE}, {@code --task}) that cannot
 * be used, found before any server starts. The message is one line naming the source (the
 * variable or the file), what is wrong and what to do.
 */
public final class ClusterConfigException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  /** With a one-line message. */
  public ClusterConfigException(String message) {
    super(message);
  }

  /** With a one-line message and the parser's cause. */
  public ClusterConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
