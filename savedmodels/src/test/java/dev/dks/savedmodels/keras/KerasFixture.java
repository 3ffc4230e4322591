package dev.dks.savedmodels.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.WritableGroup;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.Array;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Writes small synthetic Keras models for tests, as a TF.js layers model ({@code model.json} +
 * one shard, weights float32 or quantized) or as a Keras HDF5 file (written with jHDF), with
 * Functional configs in the Keras 2 ({@code [[["layer", 0, 0, {}]]]}) or Keras 3 ({@code
 * {"args": [keras tensors]}}) inbound-node form. Weights are random; {@link #weight} returns the
 * values the file will hold after (de)quantization, for the test's reference computation.
 */
final class KerasFixture {
  static final ObjectMapper JSON = new ObjectMapper();

  /** One stored weight. */
  record W(String layer, String role, long[] shape, float[] values, double[] minScale) {}

  private final Random rnd;
  private final boolean keras3;
  private final String quantization;
  private final ArrayNode layers = JSON.createArrayNode();
  private final Map<String, Integer> calls = new LinkedHashMap<>();
  private final List<W> weights = new ArrayList<>();
  private final List<String> inputs = new ArrayList<>();
  private List<String> outputs = List.of();

  /**
   * A fixture.
   *
   * @param seed weight seed
   * @param keras3 write Keras 3 inbound nodes
   * @param quantization null (float32), "uint8", "uint16" or "float16" (TF.js only)
   */
  KerasFixture(long seed, boolean keras3, String quantization) {
    this.rnd = new Random(seed);
    this.keras3 = keras3;
    this.quantization = quantization;
  }

  /** A config object from key/value pairs. */
  static ObjectNode cfg(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return JSON.valueToTree(m);
  }

  /** An InputLayer of per-sample shape {@code shape}. */
  void input(String name, long... shape) {
    ArrayNode bs = JSON.createArrayNode().addNull();
    for (long d : shape) {
      bs.add(d);
    }
    ObjectNode c = cfg("name", name, "dtype", "float32");
    c.set(keras3 ? "batch_shape" : "batch_input_shape", bs);
    ObjectNode l = JSON.createObjectNode().put("class_name", "InputLayer").put("name", name);
    l.set("config", c);
    l.set("inbound_nodes", JSON.createArrayNode());
    layers.add(l);
    calls.put(name, 1);
    inputs.add(name);
  }

  /**
   * A layer called on {@code ins} (layer names, or {@code name@k} for call k). Calling the same
   * name again adds a call of the existing layer.
   */
  String layer(String cls, String name, ObjectNode config, String... ins) {
    ObjectNode l = null;
    for (JsonNode e : layers) {
      if (e.get("name").asText().equals(name)) {
        l = (ObjectNode) e;
      }
    }
    if (l == null) {
      config.put("name", name);
      l = JSON.createObjectNode().put("class_name", cls).put("name", name);
      l.set("config", config);
      l.set("inbound_nodes", JSON.createArrayNode());
      layers.add(l);
    }
    ArrayNode refs = JSON.createArrayNode();
    for (String in : ins) {
      String[] p = in.split("@");
      int node = p.length > 1 ? Integer.parseInt(p[1]) : 0;
      if (keras3) {
        ObjectNode t = JSON.createObjectNode().put("class_name", "__keras_tensor__");
        ObjectNode tc = cfg("dtype", "float32");
        tc.set("keras_history", JSON.createArrayNode().add(p[0]).add(node).add(0));
        t.set("config", tc);
        refs.add(t);
      } else {
        refs.add(JSON.createArrayNode().add(p[0]).add(node).add(0).add(JSON.createObjectNode()));
      }
    }
    if (keras3) {
      ObjectNode call = JSON.createObjectNode();
      ArrayNode args = JSON.createArrayNode();
      if (ins.length == 1) {
        args.add(refs.get(0));
      } else {
        args.add(refs);
      }
      call.set("args", args);
      call.set("kwargs", JSON.createObjectNode());
      ((ArrayNode) l.get("inbound_nodes")).add(call);
    } else {
      ((ArrayNode) l.get("inbound_nodes")).add(refs);
    }
    calls.merge(name, 1, Integer::sum);
    return name;
  }

  /** Adds a random weight (uniform in [lo, hi)) and returns the values the file will hold. */
  float[] weight(String layer, String role, double lo, double hi, long... shape) {
    int n = 1;
    for (long d : shape) {
      n *= (int) d;
    }
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (lo + (hi - lo) * rnd.nextDouble());
    }
    double[] ms = quantization == null || quantization.equals("float16") ? null : minScale(v);
    v = stored(v, ms);
    weights.add(new W(layer, role, shape, v, ms));
    return v;
  }

  /** A random weight in [-0.5, 0.5). */
  float[] weight(String layer, String role, long... shape) {
    return weight(layer, role, -0.5, 0.5, shape);
  }

  /** The model outputs (layer names, call 0). */
  void outputs(String... names) {
    outputs = List.of(names);
  }

  /** The Keras model config. */
  ObjectNode modelConfig() {
    ObjectNode c = JSON.createObjectNode().put("name", "fixture");
    c.set("layers", layers);
    c.set("input_layers", refList(inputs));
    c.set("output_layers", refList(outputs));
    ObjectNode m = JSON.createObjectNode().put("class_name", "Functional");
    m.set("config", c);
    return m;
  }

  private JsonNode refList(List<String> names) {
    if (keras3 && names.size() == 1) {
      return JSON.createArrayNode().add(names.get(0)).add(0).add(0);
    }
    ArrayNode a = JSON.createArrayNode();
    names.forEach(n -> a.add(JSON.createArrayNode().add(n).add(0).add(0)));
    return a;
  }

  /** Writes {@code dir/model.json} and {@code dir/group1-shard1of1.bin}; returns model.json. */
  Path writeLayersJson(Path dir) throws Exception {
    return writeLayersJson(dir, modelConfig());
  }

  /** As {@link #writeLayersJson(Path)} with another config. */
  Path writeLayersJson(Path dir, JsonNode config) throws Exception {
    Files.createDirectories(dir);
    ByteArrayOutputStream bin = new ByteArrayOutputStream();
    ArrayNode specs = JSON.createArrayNode();
    for (W w : weights) {
      ObjectNode s = JSON.createObjectNode().put("name", w.layer() + "/" + w.role())
          .put("dtype", "float32");
      ArrayNode sh = s.putArray("shape");
      for (long d : w.shape()) {
        sh.add(d);
      }
      bin.write(encode(w.values(), w.minScale(), s));
      specs.add(s);
    }
    ObjectNode group = JSON.createObjectNode();
    group.putArray("paths").add("group1-shard1of1.bin");
    group.set("weights", specs);
    ObjectNode root = JSON.createObjectNode().put("format", "layers-model");
    ObjectNode topo = JSON.createObjectNode().put("keras_version", "fixture");
    topo.set("model_config", config);
    root.set("modelTopology", topo);
    root.set("weightsManifest", JSON.createArrayNode().add(group));
    Files.write(dir.resolve("group1-shard1of1.bin"), bin.toByteArray());
    Path json = dir.resolve("model.json");
    Files.writeString(json, JSON.writeValueAsString(root));
    return json;
  }

  /** Writes a Keras HDF5 model file. */
  Path writeH5(Path file) throws Exception {
    return writeH5(file, JSON.writeValueAsString(modelConfig()));
  }

  /** As {@link #writeH5(Path)} with another config string (null: no model_config). */
  Path writeH5(Path file, String config) throws Exception {
    try (WritableHdfFile f = HdfFile.write(file)) {
      if (config != null) {
        f.putAttribute("model_config", config);
      }
      f.putAttribute("keras_version", "fixture");
      WritableGroup mw = f.putGroup("model_weights");
      List<String> names = new ArrayList<>();
      layers.forEach(l -> names.add(l.get("name").asText()));
      mw.putAttribute("layer_names", names.toArray(new String[0]));
      for (String layer : names) {
        WritableGroup lg = mw.putGroup(layer);
        List<W> ws = weights.stream().filter(w -> w.layer().equals(layer)).toList();
        if (ws.isEmpty()) {
          continue;
        }
        lg.putAttribute("weight_names", ws.stream()
            .map(w -> layer + "/" + w.role() + ":0").toArray(String[]::new));
        WritableGroup inner = lg.putGroup(layer);
        for (W w : ws) {
          inner.putDataset(w.role() + ":0", nested(w.values(), w.shape()));
        }
      }
    }
    return file;
  }

  /** {@code v} as a Java array of rank {@code shape.length}. */
  private static Object nested(float[] v, long[] shape) {
    if (shape.length == 1) {
      return v.clone();
    }
    int[] dims = new int[shape.length];
    for (int i = 0; i < dims.length; i++) {
      dims[i] = (int) shape[i];
    }
    Object a = Array.newInstance(float.class, dims);
    fill(a, v, new int[] {0});
    return a;
  }

  private static void fill(Object a, float[] v, int[] pos) {
    if (a instanceof float[] f) {
      for (int i = 0; i < f.length; i++) {
        f[i] = v[pos[0]++];
      }
      return;
    }
    for (int i = 0; i < Array.getLength(a); i++) {
      fill(Array.get(a, i), v, pos);
    }
  }

  // ------------------------------------------------------------- quantization (TF.js scheme)

  private float[] stored(float[] v, double[] ms) {
    if (quantization == null) {
      return v;
    }
    float[] out = new float[v.length];
    if (quantization.equals("float16")) {
      for (int i = 0; i < v.length; i++) {
        out[i] = decodeHalf(toHalf(v[i]));
      }
      return out;
    }
    for (int i = 0; i < v.length; i++) {
      out[i] = (float) (quantize(v[i], ms) * ms[1] + ms[0]);
    }
    return out;
  }

  private double[] minScale(float[] v) {
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    for (float x : v) {
      min = Math.min(min, x);
      max = Math.max(max, x);
    }
    int levels = quantization.equals("uint8") ? 255 : 65535;
    double scale = max > min ? (max - min) / levels : 1.0;
    return new double[] {min, scale};
  }

  private long quantize(float x, double[] ms) {
    return Math.round((x - ms[0]) / ms[1]);
  }

  private byte[] encode(float[] v, double[] ms, ObjectNode spec) {
    if (quantization == null) {
      ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
      b.asFloatBuffer().put(v);
      return b.array();
    }
    ObjectNode q = spec.putObject("quantization").put("dtype", quantization);
    if (quantization.equals("float16")) {
      ByteBuffer b = ByteBuffer.allocate(v.length * 2).order(ByteOrder.LITTLE_ENDIAN);
      for (float x : v) {
        b.putShort(toHalf(x));
      }
      return b.array();
    }
    // v holds the dequantized values: rounding recovers their codes
    q.put("min", ms[0]).put("scale", ms[1]);
    boolean u8 = quantization.equals("uint8");
    ByteBuffer b = ByteBuffer.allocate(v.length * (u8 ? 1 : 2)).order(ByteOrder.LITTLE_ENDIAN);
    for (float x : v) {
      long code = quantize(x, ms);
      if (u8) {
        b.put((byte) code);
      } else {
        b.putShort((short) code);
      }
    }
    return b.array();
  }

  /** Float to IEEE half (round to nearest; normal range only, enough for test weights). */
  static short toHalf(float f) {
    if (f == 0) {
      return 0;
    }
    int sign = f < 0 ? 0x8000 : 0;
    double a = Math.abs(f);
    int e = Math.getExponent(a);
    long mant = Math.round((a / Math.scalb(1.0, e) - 1) * 1024);
    if (mant == 1024) {
      mant = 0;
      e++;
    }
    return (short) (sign | ((e + 15) << 10) | mant);
  }

  /** IEEE half to float, written out arithmetically (independent of the reader's bit shifts). */
  static float decodeHalf(short h) {
    int bits = h & 0xffff;
    double sign = (bits & 0x8000) != 0 ? -1 : 1;
    int e = (bits >> 10) & 0x1f;
    int m = bits & 0x3ff;
    if (e == 0) {
      return (float) (sign * Math.scalb((double) m, -24));
    }
    if (e == 31) {
      return m == 0 ? (float) (sign * Double.POSITIVE_INFINITY) : Float.NaN;
    }
    return (float) (sign * Math.scalb(1 + m / 1024.0, e - 15));
  }
}
