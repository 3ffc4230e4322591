package dev.dks.trainers.data;

import java.nio.file.Path;

/**
 * A data file is malformed: wrong magic number, truncated, corrupt compression, bad CSV row,
 * undecodable image, or header and contents that disagree. The message names the file and what
 * is wrong with it.
 */
public class DataFormatException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The file at fault (may be null when the data did not come from a file). */
  private final transient Path file;

  /** A malformed {@code file}; {@code what} says what is wrong. */
  public DataFormatException(Path file, String what) {
    this(file, what, null);
  }

  /** A malformed {@code file}; {@code what} says what is wrong; {@code cause} is the I/O error. */
  public DataFormatException(Path file, String what, Throwable cause) {
    super((file == null ? "data" : file.toString()) + ": " + what, cause);
    this.file = file;
  }

  /** The file at fault, or null. */
  public Path file() {
    return file;
  }
}
