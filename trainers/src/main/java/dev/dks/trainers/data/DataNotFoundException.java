package dev.dks.trainers.data;

/**
 * A data set named or pointed to does not exist (e.g. the data cache has not been filled). The
 * message says where it was looked for and, for the named data sets, to run {@code
 * scripts/fetch-assets.sh}.
 */
public class DataNotFoundException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** A data set that could not be found; {@code message} says where and what to do. */
  public DataNotFoundException(String message) {
    super(message);
  }
}
