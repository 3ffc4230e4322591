package dev.dks.rewriter.passes.norm;

/**
 * Thrown inside the matcher or the fold when something is not understood; the caller turns the
 * message into a note and leaves the graph as it was (every check runs before any edit).
 */
final class Bail extends Exception {
  private static final long serialVersionUID = 1L;

  Bail(String why) {
    super(why, null, false, false);
  }
}
