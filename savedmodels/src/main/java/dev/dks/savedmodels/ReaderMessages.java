package dev.dks.savedmodels;

import java.util.List;

/** How the model readers put names and causes into their one-line warnings and errors. */
public final class ReaderMessages {
  /** How many items {@link #abbreviate} lists before it only counts the rest. */
  static final int SHOWN = 10;

  private ReaderMessages() {}

  /** The items joined by ", ", the first ten only, then "and N more". */
  public static String abbreviate(List<String> items) {
    if (items.size() <= SHOWN) {
      return String.join(", ", items);
    }
    return String.join(", ", items.subList(0, SHOWN)) + " and " + (items.size() - SHOWN)
        + " more";
  }

  /** The first line of the exception's message, stripped ("null" when it has none). */
  public static String firstLine(Exception e) {
    String m = String.valueOf(e.getMessage()).strip();
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl).strip();
  }
}
