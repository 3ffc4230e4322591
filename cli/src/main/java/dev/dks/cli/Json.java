package dev.dks.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.UncheckedIOException;
import java.util.Locale;

/**
 * JSON and number formatting shared by the model commands: one pretty-printing mapper, numbers
 * that are not finite written as {@code null} (JSON has no NaN or infinity), shapes as arrays.
 */
final class Json {
  static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private Json() {}

  /** A new empty object. */
  static ObjectNode object() {
    return MAPPER.createObjectNode();
  }

  /** Pretty-printed, ending with a newline. */
  static String write(JsonNode n) {
    try {
      return MAPPER.writeValueAsString(n) + System.lineSeparator();
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Puts {@code v}, or null when it is NaN or infinite. */
  static void put(ObjectNode o, String key, double v) {
    if (Double.isFinite(v)) {
      o.put(key, v);
    } else {
      o.putNull(key);
    }
  }

  /** Puts a shape as an array ({@code -1} for unknown dimensions), or null for unknown rank. */
  static void putShape(ObjectNode o, String key, long[] shape) {
    if (shape == null) {
      o.putNull(key);
      return;
    }
    ArrayNode a = o.putArray(key);
    for (long d : shape) {
      a.add(d);
    }
  }

  /** A number for text output: 6 significant digits, {@code inf}, or {@code n/a} for NaN. */
  static String num(double v) {
    if (Double.isNaN(v)) {
      return "n/a";
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "inf" : "-inf";
    }
    return String.format(Locale.ROOT, "%.6g", v);
  }

  /** A shape for text output, e.g. {@code [-1,28,28,1]}, or {@code ?} for unknown rank. */
  static String shape(long[] shape) {
    if (shape == null) {
      return "?";
    }
    StringBuilder b = new StringBuilder("[");
    for (int i = 0; i < shape.length; i++) {
      b.append(i == 0 ? "" : ",").append(shape[i]);
    }
    return b.append(']').toString();
  }
}
