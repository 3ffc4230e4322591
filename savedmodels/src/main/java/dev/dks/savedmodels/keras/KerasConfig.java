package dev.dks.savedmodels.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dks.savedmodels.ModelFormatException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A Keras model config ({@code model_config} of an HDF5 file, {@code modelTopology} of a TF.js
 * layers model) reduced to what the graph builder needs: the layers in file order, each with its
 * class, config and calls (one list of input references per time the layer is called), and the
 * model's input and output references.
 *
 * <p>Reads {@code Functional} / {@code Model} configs with Keras 2 inbound nodes ({@code
 * [[["layer", node, tensor, {kwargs}], ...], ...]}) and Keras 3 inbound nodes ({@code [{"args":
 * [...keras tensors...], "kwargs": {...}}]}, tensors found through their {@code keras_history}),
 * and {@code Sequential} configs (a list of layers, or {@code {"layers": [...]}}), where a missing
 * {@code InputLayer} is made from the first layer's {@code batch_input_shape} (or the config's
 * {@code build_input_shape}) and named {@code <first layer>_input} as Keras does.
 */
final class KerasConfig {
  /**
   * Output {@code tensor} of call {@code node} of layer {@code layer}.
   *
   * @param layer the layer name
   * @param node which call of the layer
   * @param tensor which output of that call
   */
  record Ref(String layer, int node, int tensor) {
    @Override
    public String toString() {
      return layer + "[" + node + "][" + tensor + "]";
    }
  }

  /**
   * One layer.
   *
   * @param name the layer name
   * @param className the Keras class, e.g. {@code Conv2D}
   * @param config its config object
   * @param calls the inputs of each call, in call order
   */
  record Layer(String name, String className, JsonNode config, List<List<Ref>> calls) {
    /** {@code 'name' (Class)}, for messages. */
    String describe() {
      return "layer '" + name + "' (" + className + ")";
    }
  }

  final String modelName;
  final String modelClass;
  final List<Layer> layers;
  final List<Ref> inputs;
  final List<Ref> outputs;

  private KerasConfig(String modelName, String modelClass, List<Layer> layers, List<Ref> inputs,
      List<Ref> outputs) {
    this.modelName = modelName;
    this.modelClass = modelClass;
    this.layers = List.copyOf(layers);
    this.inputs = List.copyOf(inputs);
    this.outputs = List.copyOf(outputs);
  }

  /** Parses {@code {"class_name": ..., "config": ...}}. */
  static KerasConfig parse(JsonNode model) {
    if (model == null || !model.isObject()) {
      throw new ModelFormatException("the model config is not a JSON object");
    }
    String cls = text(model.get("class_name"));
    JsonNode cfg = model.get("config");
    if (cls == null || cfg == null) {
      throw new ModelFormatException("the model config has no class_name/config: it is not a "
          + "Keras model config");
    }
    return switch (cls) {
      case "Functional", "Model" -> functional(cls, cfg);
      case "Sequential" -> sequential(cfg);
      default -> throw new ModelFormatException("the model is a '" + cls + "': only Functional, "
          + "Model and Sequential Keras models are supported");
    };
  }

  private static KerasConfig functional(String cls, JsonNode cfg) {
    JsonNode ls = cfg.get("layers");
    if (ls == null || !ls.isArray() || ls.isEmpty()) {
      throw new ModelFormatException("the " + cls + " model config has no layers");
    }
    List<Layer> layers = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (JsonNode l : ls) {
      String cn = text(l.get("class_name"));
      JsonNode lc = l.get("config");
      String name = text(l.get("name"));
      if (name == null && lc != null) {
        name = text(lc.get("name"));
      }
      if (cn == null || name == null || name.isEmpty()) {
        throw new ModelFormatException("a layer of the model config has no name or class_name: "
            + abbreviate(l));
      }
      if (!names.add(name)) {
        throw new ModelFormatException("two layers are named '" + name + "'");
      }
      List<List<Ref>> calls = new ArrayList<>();
      JsonNode inbound = l.get("inbound_nodes");
      if (inbound != null && inbound.isArray()) {
        for (JsonNode call : inbound) {
          calls.add(call(name, cn, call));
        }
      }
      layers.add(new Layer(name, cn, lc == null ? JsonNodeFactory.instance.objectNode() : lc,
          calls));
    }
    List<Ref> in = refList(cfg.get("input_layers"), "input_layers");
    List<Ref> out = refList(cfg.get("output_layers"), "output_layers");
    for (Ref r : concat(in, out)) {
      if (!names.contains(r.layer())) {
        throw new ModelFormatException("the model's input/output layer '" + r.layer()
            + "' is not among its layers");
      }
    }
    return new KerasConfig(text(cfg.get("name")), cls, layers, in, out);
  }

  private static KerasConfig sequential(JsonNode cfg) {
    JsonNode ls = cfg.isArray() ? cfg : cfg.get("layers");
    if (ls == null || !ls.isArray() || ls.isEmpty()) {
      throw new ModelFormatException("the Sequential model config has no layers");
    }
    List<Layer> layers = new ArrayList<>();
    Set<String> names = new HashSet<>();
    Ref prev = null;
    Ref input = null;
    for (JsonNode l : ls) {
      String cn = text(l.get("class_name"));
      JsonNode lc = l.get("config");
      String name = lc == null ? null : text(lc.get("name"));
      if (name == null) {
        name = text(l.get("name"));
      }
      if (cn == null || name == null || name.isEmpty()) {
        throw new ModelFormatException("a layer of the Sequential config has no name or "
            + "class_name: " + abbreviate(l));
      }
      if (lc == null) {
        lc = JsonNodeFactory.instance.objectNode();
      }
      if (prev == null && !cn.equals("InputLayer")) {
        JsonNode shape = firstNonNull(lc.get("batch_input_shape"), lc.get("batch_shape"),
            lc.get("batchInputShape"), cfg.isObject() ? cfg.get("build_input_shape") : null);
        if (shape == null) {
          throw new ModelFormatException("the Sequential model has no InputLayer and its first "
              + "layer '" + name + "' declares no batch_input_shape: the input shape is unknown");
        }
        String inName = name + "_input";
        ObjectNode ic = JsonNodeFactory.instance.objectNode();
        ic.put("name", inName);
        ic.set("batch_input_shape", shape);
        layers.add(new Layer(inName, "InputLayer", ic, List.of()));
        names.add(inName);
        prev = new Ref(inName, 0, 0);
        input = prev;
      }
      if (!names.add(name)) {
        throw new ModelFormatException("two layers are named '" + name + "'");
      }
      if (cn.equals("InputLayer")) {
        if (prev != null) {
          throw new ModelFormatException("the Sequential model has an InputLayer '" + name
              + "' after its first layer");
        }
        layers.add(new Layer(name, cn, lc, List.of()));
        input = new Ref(name, 0, 0);
      } else {
        layers.add(new Layer(name, cn, lc, List.of(List.of(prev))));
      }
      prev = new Ref(name, 0, 0);
    }
    String modelName = cfg.isObject() ? text(cfg.get("name")) : null;
    return new KerasConfig(modelName, "Sequential", layers, List.of(input), List.of(prev));
  }

  /** One call: Keras 2 list of refs, or Keras 3 {"args": ..., "kwargs": ...}. */
  private static List<Ref> call(String layer, String cls, JsonNode call) {
    List<Ref> refs = new ArrayList<>();
    if (call.isArray()) {
      for (JsonNode r : call) {
        refs.add(ref(r, "inbound node of layer '" + layer + "'"));
      }
    } else if (call.isObject()) {
      collectKerasTensors(call.get("args"), refs);
    } else {
      throw new ModelFormatException("layer '" + layer + "' (" + cls + ") has an inbound node "
          + "that is neither a list nor an object: " + abbreviate(call));
    }
    return refs;
  }

  private static void collectKerasTensors(JsonNode n, List<Ref> out) {
    if (n == null) {
      return;
    }
    if (n.isArray()) {
      for (JsonNode c : n) {
        collectKerasTensors(c, out);
      }
    } else if (n.isObject()) {
      JsonNode cfg = n.get("config");
      if ("__keras_tensor__".equals(text(n.get("class_name"))) && cfg != null
          && cfg.has("keras_history")) {
        out.add(ref(cfg.get("keras_history"), "keras_history"));
      } else {
        for (JsonNode v : n) {
          collectKerasTensors(v, out);
        }
      }
    }
  }

  private static List<Ref> refList(JsonNode n, String what) {
    if (n == null || !n.isArray() || n.isEmpty()) {
      throw new ModelFormatException("the model config has no " + what);
    }
    if (n.get(0).isTextual()) {
      return List.of(ref(n, what));
    }
    List<Ref> out = new ArrayList<>();
    for (JsonNode r : n) {
      out.add(ref(r, what));
    }
    return out;
  }

  private static Ref ref(JsonNode r, String what) {
    if (r == null || !r.isArray() || r.size() < 1 || !r.get(0).isTextual()) {
      throw new ModelFormatException("malformed tensor reference in " + what + ": "
          + abbreviate(r));
    }
    int node = r.size() > 1 && r.get(1).canConvertToInt() ? r.get(1).asInt() : 0;
    int tensor = r.size() > 2 && r.get(2).canConvertToInt() ? r.get(2).asInt() : 0;
    return new Ref(r.get(0).asText(), node, tensor);
  }

  static String text(JsonNode n) {
    return n == null || n.isNull() || !n.isValueNode() ? null : n.asText();
  }

  static String abbreviate(JsonNode n) {
    String s = String.valueOf(n);
    return s.length() > 200 ? s.substring(0, 200) + "..." : s;
  }

  private static JsonNode firstNonNull(JsonNode... ns) {
    for (JsonNode n : ns) {
      if (n != null && !n.isNull()) {
        return n;
      }
    }
    return null;
  }

  private static List<Ref> concat(List<Ref> a, List<Ref> b) {
    List<Ref> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }
}
