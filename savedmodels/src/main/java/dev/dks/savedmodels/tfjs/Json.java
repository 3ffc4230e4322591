package dev.dks.savedmodels.tfjs;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Strict JSON parsing into plain Java values with Jackson's untyped binding: objects as {@code
 * LinkedHashMap<String, Object>}, arrays as {@code ArrayList<Object>}, strings as {@code String},
 * integers that fit as {@code Long}, other numbers as {@code Double}, booleans and null. Trailing content
 * after the value is an error, and nesting is bounded (Jackson's stream constraints) so hostile
 * input cannot overflow the stack.
 */
final class Json {
  /** Deepest nesting accepted. */
  static final int MAX_DEPTH = 512;

  private static final ObjectMapper MAPPER = JsonMapper.builder()
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();

  static {
    MAPPER.getFactory().setStreamReadConstraints(
        StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH).build());
    MAPPER.getFactory().disable(JsonParser.Feature.ALLOW_COMMENTS);
  }

  private Json() {}

  /** A syntax or encoding error; the message says where. */
  static final class JsonException extends Exception {
    private static final long serialVersionUID = 1L;

    JsonException(String message) {
      super(message);
    }
  }

  /** Parses UTF-8 JSON text (a leading byte order mark is skipped). */
  static Object parse(byte[] utf8) throws JsonException {
    int start = utf8.length >= 3 && (utf8[0] & 0xff) == 0xEF && (utf8[1] & 0xff) == 0xBB
        && (utf8[2] & 0xff) == 0xBF ? 3 : 0;
    if (utf8.length - start == 0) {
      throw new JsonException("no JSON value: the text is empty");
    }
    try {
      return normalize(MAPPER.readValue(utf8, start, utf8.length - start, Object.class));
    } catch (JsonProcessingException e) {
      throw new JsonException(e.getOriginalMessage() + " (" + location(e) + ")");
    } catch (IOException e) {
      throw new JsonException(e.getMessage());
    }
  }

  /** The plain Java value (as {@link #parse} returns) of an already parsed Jackson tree. */
  static Object fromTree(com.fasterxml.jackson.databind.JsonNode tree) {
    return normalize(MAPPER.convertValue(tree, Object.class));
  }

  /** Parses JSON text. */
  static Object parse(String text) throws JsonException {
    return parse(text.getBytes(StandardCharsets.UTF_8));
  }

  /** Integers as Long (Double when they do not fit), floats as Double, recursively. */
  @SuppressWarnings("unchecked")
  private static Object normalize(Object v) {
    if (v instanceof Integer i) {
      return i.longValue();
    }
    if (v instanceof java.math.BigInteger b) {
      return b.bitLength() < 64 ? (Object) b.longValue() : (Object) b.doubleValue();
    }
    if (v instanceof java.math.BigDecimal d) {
      return d.doubleValue();
    }
    if (v instanceof java.util.Map<?, ?> m) {
      ((java.util.Map<String, Object>) m).replaceAll((k, x) -> normalize(x));
    } else if (v instanceof java.util.List<?> l) {
      ((java.util.List<Object>) l).replaceAll(Json::normalize);
    }
    return v;
  }

  private static String location(JsonProcessingException e) {
    return e.getLocation() == null ? "unknown position"
        : "line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
  }
}
