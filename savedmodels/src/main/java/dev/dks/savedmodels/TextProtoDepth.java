package dev.dks.savedmodels;

/**
 * The nesting limit of text-format protocol buffers (untrusted models, issue 17): the binary
 * parser stops at {@value #LIMIT} nested messages, but protobuf-java 3.21's {@code TextFormat}
 * has no such limit and recurses once per level, so a {@code saved_model.pbtxt} nested a few
 * thousand levels deep ends the parse with a StackOverflowError. The text is scanned first: depth
 * is counted over {@code {}} and {@code <>} outside string literals and {@code #} comments.
 */
final class TextProtoDepth {
  /** The binary parser's default recursion limit, applied to text too. */
  static final int LIMIT = 100;

  private TextProtoDepth() {}

  /**
   * Fails when {@code text} nests messages deeper than {@link #LIMIT}.
   *
   * @throws ModelFormatException naming {@code what}, the depth and the line
   */
  static void requireWithinLimit(String text, String what) {
    int depth = 0;
    int line = 1;
    char quote = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '\n') {
        line++;
        quote = 0; // a string literal ends at its line
        continue;
      }
      if (quote != 0) {
        if (c == '\\') {
          i++;
        } else if (c == quote) {
          quote = 0;
        }
        continue;
      }
      if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '#') {
        while (i + 1 < text.length() && text.charAt(i + 1) != '\n') {
          i++;
        }
      } else if (c == '{' || c == '<') {
        if (++depth > LIMIT) {
          throw new ModelFormatException(what + " nests messages more than " + LIMIT
              + " levels deep (line " + line + "): protocol buffer parsers stop there");
        }
      } else if (c == '}' || c == '>') {
        depth--;
      }
    }
  }
}
