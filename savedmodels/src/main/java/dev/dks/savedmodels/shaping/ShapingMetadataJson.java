package dev.dks.savedmodels.shaping;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dks.savedmodels.ModelFormatException;
import dev.dks.solver.solve.Method;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link ShapingMetadata} to and from its JSON form (the schema is documented on {@link
 * ShapingMetadata}), with Jackson's tree model. Parsing is strict about what it needs (format,
 * version, method, activations with numeric parameters) and ignores keys it does not know, so a
 * later additive version still reads; a version above {@value ShapingMetadata#VERSION} is
 * refused, naming the file.
 */
public final class ShapingMetadataJson {
  private static final ObjectMapper MAPPER = JsonMapper.builder()
      .enable(SerializationFeature.INDENT_OUTPUT)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();

  private ShapingMetadataJson() {}

  /** The JSON tree of {@code m}. */
  public static ObjectNode tree(ShapingMetadata m) {
    ObjectNode root = MAPPER.createObjectNode();
    root.put("format", ShapingMetadata.FORMAT);
    root.put("version", m.version());
    root.put("tool", m.tool());
    root.put("shaped_by", m.shapedBy());
    root.put("method", m.method().name());
    ObjectNode targets = root.putObject("targets");
    m.targets().forEach((k, v) -> put(targets, k, v));
    put(root, "local_target", m.localTarget());
    if (m.shortcutWeight() == null) {
      root.putNull("shortcut_weight");
    } else {
      put(root, "shortcut_weight", m.shortcutWeight());
    }
    if (m.pln() == null) {
      root.putNull("pln");
    } else {
      root.put("pln", m.pln());
    }
    ObjectNode structure = root.putObject("structure");
    structure.put("depth", m.structureDepth());
    structure.put("sites", m.sites().size());
    ArrayNode acts = root.putArray("activations");
    for (ShapingMetadata.ShapedEntry a : m.activations()) {
      ObjectNode o = acts.addObject();
      o.put("activation", a.activation());
      ObjectNode p = o.putObject("params");
      a.params().forEach((k, v) -> put(p, k, v));
      ObjectNode n = o.putObject("network");
      put(n, "c_slope_1", a.cSlope1());
      put(n, "c_curvature_1", a.cCurvature1());
      put(n, "c0", a.c0());
      put(o, "chain_matched_local_target", a.chainMatchedTarget());
    }
    ArrayNode sites = root.putArray("sites");
    for (ShapingMetadata.Site s : m.sites()) {
      ObjectNode o = sites.addObject();
      o.put("node", s.node());
      o.put("kind", s.kind());
      o.put("activation", s.activation());
    }
    root.put("trained_steps", m.trainedSteps());
    return root;
  }

  /** The UTF-8 JSON text of {@code m}, pretty-printed, ending with a newline. */
  public static byte[] write(ShapingMetadata m) {
    try {
      return (MAPPER.writeValueAsString(tree(m)) + "\n").getBytes(StandardCharsets.UTF_8);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialize the shaping metadata", e);
    }
  }

  /**
   * Parses the JSON text of a shaping record.
   *
   * @param where the file, for messages
   * @throws ModelFormatException naming {@code where} and the key at fault
   */
  public static ShapingMetadata parse(byte[] utf8, String where) {
    JsonNode root;
    try {
      root = MAPPER.readTree(utf8);
    } catch (IOException e) {
      throw bad(where, "not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
    }
    if (root == null || !root.isObject()) {
      throw bad(where, "not a JSON object");
    }
    if (!ShapingMetadata.FORMAT.equals(root.path("format").asText(null))) {
      throw bad(where, "its \"format\" is " + root.path("format") + ", not \""
          + ShapingMetadata.FORMAT + "\"");
    }
    JsonNode v = root.path("version");
    if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < 1) {
      throw bad(where, "\"version\" must be a positive integer, got " + v);
    }
    if (v.asInt() > ShapingMetadata.VERSION) {
      throw bad(where, "version " + v.asInt() + " was written by a newer dks (this one reads up "
          + "to version " + ShapingMetadata.VERSION + "): upgrade dks, or give the shaping "
          + "flags explicitly");
    }
    Method method;
    try {
      method = Method.parse(text(root, "method", where));
    } catch (IllegalArgumentException e) {
      throw bad(where, "\"method\": " + e.getMessage());
    }
    Map<String, Double> targets = numbers(root.path("targets"), "targets", where);
    List<ShapingMetadata.ShapedEntry> acts = new ArrayList<>();
    JsonNode an = root.path("activations");
    if (!an.isArray()) {
      throw bad(where, "\"activations\" must be an array");
    }
    for (JsonNode a : an) {
      JsonNode net = a.path("network");
      acts.add(new ShapingMetadata.ShapedEntry(text(a, "activation", where),
          numbers(a.path("params"), "params", where), number(net, "c_slope_1"),
          number(net, "c_curvature_1"), number(net, "c0"),
          number(a, "chain_matched_local_target")));
    }
    List<ShapingMetadata.Site> sites = new ArrayList<>();
    for (JsonNode s : root.path("sites")) {
      sites.add(new ShapingMetadata.Site(text(s, "node", where), text(s, "kind", where),
          text(s, "activation", where)));
    }
    JsonNode sw = root.path("shortcut_weight");
    Double shortcut = sw.isNumber() ? sw.asDouble() : null;
    JsonNode pln = root.path("pln");
    return new ShapingMetadata(v.asInt(), root.path("tool").asText("unknown"),
        root.path("shaped_by").asText("unknown"), method, targets,
        number(root, "local_target"), shortcut, pln.isTextual() ? pln.asText() : null,
        root.path("structure").path("depth").asInt(0), acts, sites,
        root.path("trained_steps").asLong(0));
  }

  private static void put(ObjectNode o, String key, double v) {
    if (Double.isFinite(v)) {
      o.put(key, v);
    } else {
      o.putNull(key);
    }
  }

  private static String text(JsonNode o, String key, String where) {
    JsonNode n = o.path(key);
    if (!n.isTextual() || n.asText().isBlank()) {
      throw bad(where, "\"" + key + "\" must be a non-empty string, got " + n);
    }
    return n.asText();
  }

  /** The number at {@code key}; NaN for null or absent. */
  private static double number(JsonNode o, String key) {
    JsonNode n = o.path(key);
    return n.isNumber() ? n.asDouble() : Double.NaN;
  }

  private static Map<String, Double> numbers(JsonNode o, String what, String where) {
    if (!o.isObject()) {
      throw bad(where, "\"" + what + "\" must be an object of numbers");
    }
    Map<String, Double> m = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getValue().isNumber()) {
        throw bad(where, "\"" + what + "\"." + e.getKey() + " must be a number, got "
            + e.getValue());
      }
      m.put(e.getKey(), e.getValue().asDouble());
    }
    return m;
  }

  private static ModelFormatException bad(String where, String what) {
    return new ModelFormatException(where + ": not a usable shaping record: " + what);
  }
}
