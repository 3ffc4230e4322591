package dev.dks.savedmodels.tfjs;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small strict JSON reader (RFC 8259) producing plain Java values: objects as {@code
 * LinkedHashMap<String, Object>} (key order kept, a repeated key keeps its last value), arrays as
 * {@code ArrayList<Object>}, strings as {@code String}, numbers as {@code Long} (integers that
 * fit) or {@code Double}, {@code true}/{@code false} as {@code Boolean}, {@code null} as Java
 * null — the same tree Jackson's untyped binding gives.
 *
 * <p>It exists because Jackson is not on this module's classpath; replace {@link #parse(byte[])}
 * by {@code new ObjectMapper().readValue(bytes, Object.class)} once it is. Input must be UTF-8
 * (a leading byte order mark is skipped); nesting deeper than {@value #MAX_DEPTH} is refused so
 * hostile input cannot overflow the stack.
 */
final class Json {
  /** Deepest nesting accepted. */
  static final int MAX_DEPTH = 512;

  private final String s;
  private int pos;
  private int depth;

  private Json(String s) {
    this.s = s;
  }

  /** A syntax or encoding error; the message says where (line and column). */
  static final class JsonException extends Exception {
    private static final long serialVersionUID = 1L;

    JsonException(String message) {
      super(message);
    }
  }

  /** Parses UTF-8 JSON text. */
  static Object parse(byte[] utf8) throws JsonException {
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(utf8))
          .toString();
    } catch (CharacterCodingException e) {
      throw new JsonException("the bytes are not UTF-8 text (" + e.getMessage() + ")");
    }
    return parse(text);
  }

  /** Parses JSON text. */
  static Object parse(String text) throws JsonException {
    Json p = new Json(text);
    if (text.startsWith("\uFEFF")) {
      p.pos = 1;
    }
    p.skipWs();
    if (p.pos >= text.length()) {
      throw new JsonException("no JSON value: the text is empty");
    }
    Object v = p.value();
    p.skipWs();
    if (p.pos < text.length()) {
      throw p.error("unexpected text after the JSON value");
    }
    return v;
  }

  private Object value() throws JsonException {
    if (pos >= s.length()) {
      throw error("unexpected end of the text");
    }
    char c = s.charAt(pos);
    return switch (c) {
      case '{' -> object();
      case '[' -> array();
      case '"' -> string();
      case 't' -> literal("true", Boolean.TRUE);
      case 'f' -> literal("false", Boolean.FALSE);
      case 'n' -> literal("null", null);
      default -> {
        if (c == '-' || (c >= '0' && c <= '9')) {
          yield number();
        }
        throw error("unexpected character " + describe(c));
      }
    };
  }

  private Map<String, Object> object() throws JsonException {
    enter();
    pos++;
    Map<String, Object> m = new LinkedHashMap<>();
    skipWs();
    if (peek() == '}') {
      pos++;
      depth--;
      return m;
    }
    while (true) {
      skipWs();
      if (peek() != '"') {
        throw error("expected a string key in an object");
      }
      String k = string();
      skipWs();
      expect(':');
      skipWs();
      m.put(k, value());
      skipWs();
      char c = peek();
      pos++;
      if (c == '}') {
        depth--;
        return m;
      }
      if (c != ',') {
        pos--;
        throw error("expected ',' or '}' in an object");
      }
    }
  }

  private List<Object> array() throws JsonException {
    enter();
    pos++;
    List<Object> a = new ArrayList<>();
    skipWs();
    if (peek() == ']') {
      pos++;
      depth--;
      return a;
    }
    while (true) {
      skipWs();
      a.add(value());
      skipWs();
      char c = peek();
      pos++;
      if (c == ']') {
        depth--;
        return a;
      }
      if (c != ',') {
        pos--;
        throw error("expected ',' or ']' in an array");
      }
    }
  }

  private String string() throws JsonException {
    pos++;
    StringBuilder b = null;
    int start = pos;
    while (true) {
      if (pos >= s.length()) {
        throw error("unterminated string");
      }
      char c = s.charAt(pos);
      if (c == '"') {
        String out = b == null ? s.substring(start, pos) : b.append(s, start, pos).toString();
        pos++;
        return out;
      }
      if (c < 0x20) {
        throw error("control character " + describe(c) + " inside a string");
      }
      if (c == '\\') {
        if (b == null) {
          b = new StringBuilder();
        }
        b.append(s, start, pos);
        pos++;
        if (pos >= s.length()) {
          throw error("unterminated escape");
        }
        char e = s.charAt(pos++);
        switch (e) {
          case '"' -> b.append('"');
          case '\\' -> b.append('\\');
          case '/' -> b.append('/');
          case 'b' -> b.append('\b');
          case 'f' -> b.append('\f');
          case 'n' -> b.append('\n');
          case 'r' -> b.append('\r');
          case 't' -> b.append('\t');
          case 'u' -> {
            if (pos + 4 > s.length()) {
              throw error("short \\u escape");
            }
            int cp = 0;
            for (int i = 0; i < 4; i++) {
              int d = Character.digit(s.charAt(pos + i), 16);
              if (d < 0) {
                throw error("bad \\u escape");
              }
              cp = cp * 16 + d;
            }
            pos += 4;
            b.append((char) cp);
          }
          default -> {
            pos--;
            throw error("bad escape \\" + e);
          }
        }
        start = pos;
        continue;
      }
      pos++;
    }
  }

  private Object number() throws JsonException {
    int start = pos;
    if (peek() == '-') {
      pos++;
    }
    if (peek() == '0') {
      pos++;
    } else if (isDigit(peek())) {
      while (isDigit(peek())) {
        pos++;
      }
    } else {
      throw error("bad number");
    }
    boolean integral = true;
    if (peek() == '.') {
      integral = false;
      pos++;
      if (!isDigit(peek())) {
        throw error("bad number: no digit after '.'");
      }
      while (isDigit(peek())) {
        pos++;
      }
    }
    if (peek() == 'e' || peek() == 'E') {
      integral = false;
      pos++;
      if (peek() == '+' || peek() == '-') {
        pos++;
      }
      if (!isDigit(peek())) {
        throw error("bad number: no digit in the exponent");
      }
      while (isDigit(peek())) {
        pos++;
      }
    }
    String t = s.substring(start, pos);
    if (integral) {
      try {
        return Long.parseLong(t);
      } catch (NumberFormatException e) {
        // too large for a long: fall through to a double
      }
    }
    return Double.parseDouble(t);
  }

  private Object literal(String word, Object v) throws JsonException {
    if (!s.startsWith(word, pos)) {
      throw error("unexpected text (expected '" + word + "')");
    }
    pos += word.length();
    return v;
  }

  private void enter() throws JsonException {
    if (++depth > MAX_DEPTH) {
      throw error("nesting deeper than " + MAX_DEPTH);
    }
  }

  private void expect(char c) throws JsonException {
    if (peek() != c) {
      throw error("expected '" + c + "'");
    }
    pos++;
  }

  private char peek() {
    return pos < s.length() ? s.charAt(pos) : '\0';
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private void skipWs() {
    while (pos < s.length()) {
      char c = s.charAt(pos);
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        return;
      }
      pos++;
    }
  }

  private static String describe(char c) {
    return c >= 0x20 && c < 0x7f ? "'" + c + "'" : String.format("U+%04X", (int) c);
  }

  private JsonException error(String what) {
    int line = 1;
    int col = 1;
    for (int i = 0; i < pos && i < s.length(); i++) {
      if (s.charAt(i) == '\n') {
        line++;
        col = 1;
      } else {
        col++;
      }
    }
    if (pos >= s.length()) {
      return new JsonException(what + " at the end of the text (line " + line + ")");
    }
    return new JsonException(what + " at line " + line + ", column " + col);
  }
}
