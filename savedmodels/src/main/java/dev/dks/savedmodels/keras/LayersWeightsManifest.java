package dev.dks.savedmodels.keras;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dks.savedmodels.ModelFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the weights of a TensorFlow.js layers model: the {@code weightsManifest} of {@code
 * model.json} is a list of groups, each with the shard files ({@code paths}, relative to
 * model.json, concatenated in order) and the weights stored back to back in them ({@code name},
 * {@code shape}, {@code dtype}, optional {@code quantization}). Little-endian float32, or
 * quantized: {@code uint8} / {@code uint16} dequantized as {@code q * scale + min}, {@code
 * float16} widened. Weight {@code layer/role} belongs to layer {@code layer}.
 */
final class LayersWeightsManifest {
  private LayersWeightsManifest() {}

  /** Weights by layer name (the part of the weight name before its last '/'). */
  static Map<String, List<KerasWeight>> read(Path modelJson, JsonNode manifest) {
    if (manifest == null || !manifest.isArray()) {
      throw new ModelFormatException("model.json has no weightsManifest list");
    }
    Path dir = modelJson.toAbsolutePath().getParent();
    Map<String, List<KerasWeight>> out = new LinkedHashMap<>();
    for (JsonNode group : manifest) {
      ByteBuffer data = shards(dir, group.get("paths"));
      JsonNode ws = group.get("weights");
      if (ws == null || !ws.isArray()) {
        throw new ModelFormatException("a weightsManifest group has no weights list");
      }
      for (JsonNode w : ws) {
        KerasWeight kw = weight(w, data);
        String name = kw.name();
        int slash = name.lastIndexOf('/');
        String layer = slash > 0 ? name.substring(0, slash) : name;
        out.computeIfAbsent(layer, k -> new ArrayList<>()).add(kw);
      }
    }
    return out;
  }

  private static ByteBuffer shards(Path dir, JsonNode paths) {
    if (paths == null || !paths.isArray() || paths.isEmpty()) {
      throw new ModelFormatException("a weightsManifest group lists no shard paths");
    }
    List<byte[]> parts = new ArrayList<>();
    long total = 0;
    for (JsonNode p : paths) {
      Path f = dir.resolve(p.asText()).normalize();
      if (!f.startsWith(dir)) {
        throw new ModelFormatException("shard path '" + p.asText() + "' leaves the model folder");
      }
      try {
        byte[] b = Files.readAllBytes(f);
        parts.add(b);
        total += b.length;
      } catch (IOException e) {
        throw new ModelFormatException("cannot read weight shard " + f + ": " + e, e);
      }
    }
    if (total > Integer.MAX_VALUE) {
      throw new ModelFormatException("the shards " + paths + " hold more than 2 GiB");
    }
    ByteBuffer bb = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
    parts.forEach(bb::put);
    bb.flip();
    return bb;
  }

  private static KerasWeight weight(JsonNode w, ByteBuffer data) {
    String name = KerasConfig.text(w.get("name"));
    JsonNode sh = w.get("shape");
    if (name == null || sh == null || !sh.isArray()) {
      throw new ModelFormatException("a weightsManifest entry has no name or shape: "
          + KerasConfig.abbreviate(w));
    }
    long[] shape = new long[sh.size()];
    long n = 1;
    try {
      for (int i = 0; i < shape.length; i++) {
        if (!sh.get(i).canConvertToLong() || sh.get(i).asLong() < 0) {
          throw new ModelFormatException("weight '" + name + "' has a bad shape " + sh);
        }
        shape[i] = sh.get(i).asLong();
        n = Math.multiplyExact(n, shape[i]);
      }
    } catch (ArithmeticException e) {
      throw new ModelFormatException("weight '" + name + "' has a shape too large " + sh, e);
    }
    String dtype = KerasConfig.text(w.get("dtype"));
    if (dtype != null && !dtype.equals("float32")) {
      throw new ModelFormatException("weight '" + name + "' has dtype " + dtype
          + ": a Keras layers model's weights are float32");
    }
    JsonNode q = w.get("quantization");
    String qt = q == null ? null : KerasConfig.text(q.get("dtype"));
    int width = qt == null ? 4 : switch (qt) {
      case "uint8" -> 1;
      case "uint16", "float16" -> 2;
      default -> throw new ModelFormatException("weight '" + name + "' has unsupported "
          + "quantization dtype '" + qt + "' (uint8, uint16, float16)");
    };
    long bytes = n * width;
    if (bytes > data.remaining()) {
      throw new ModelFormatException("weight '" + name + "' needs " + bytes + " bytes but the "
          + "shards hold only " + data.remaining() + " more (truncated shard?)");
    }
    float[] v = new float[(int) n];
    if (qt == null) {
      data.asFloatBuffer().get(v);
      data.position(data.position() + (int) bytes);
    } else if (qt.equals("float16")) {
      for (int i = 0; i < v.length; i++) {
        v[i] = halfToFloat(data.getShort());
      }
    } else {
      if (q.get("scale") == null || q.get("min") == null) {
        throw new ModelFormatException("weight '" + name + "' is " + qt + "-quantized without "
            + "scale and min");
      }
      double scale = q.get("scale").asDouble();
      double min = q.get("min").asDouble();
      for (int i = 0; i < v.length; i++) {
        int raw = width == 1 ? data.get() & 0xff : data.getShort() & 0xffff;
        v[i] = (float) (raw * scale + min);
      }
    }
    return new KerasWeight(name, shape, v);
  }

  /** IEEE 754 half precision to float. */
  static float halfToFloat(short h) {
    int bits = h & 0xffff;
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & 0x1f;
    int mant = bits & 0x3ff;
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp == 0) {
      float f = mant * 0x1p-24f;
      return sign != 0 ? -f : f;
    }
    return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
  }
}
