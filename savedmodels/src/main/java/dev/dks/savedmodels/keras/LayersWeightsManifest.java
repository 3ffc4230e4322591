package dev.dks.savedmodels.keras;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.savedmodels.ModelFormatException;
import dev.dks.savedmodels.tfjs.Float16;
import dev.dks.savedmodels.tfjs.TfjsWeights;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

/**
 * The weights of a TensorFlow.js layers model, grouped by layer. The {@code weightsManifest} of
 * {@code model.json} (shards, dequantization) is read by the shared {@link TfjsWeights}; this
 * class adds what a Keras layers model needs on top: a manifest must be present, its shard paths
 * must stay inside the model folder, every weight is float32, and weight {@code layer/role}
 * belongs to layer {@code layer}.
 */
final class LayersWeightsManifest {
  private LayersWeightsManifest() {}

  /** Weights by layer name (the part of the weight name before its last '/'). */
  static Map<String, List<KerasWeight>> read(Path modelJson, JsonNode manifest) {
    if (manifest == null || !manifest.isArray()) {
      throw new ModelFormatException("model.json has no weightsManifest list");
    }
    requireLocalShards(modelJson.toAbsolutePath().normalize().getParent(), manifest);
    Map<String, List<KerasWeight>> out = new LinkedHashMap<>();
    TfjsWeights.readTree(modelJson, manifest).forEach((name, t) -> {
      int slash = name.lastIndexOf('/');
      String layer = slash > 0 ? name.substring(0, slash) : name;
      out.computeIfAbsent(layer, k -> new ArrayList<>()).add(weight(name, t));
    });
    return out;
  }

  /** Every group lists shards, none of them outside {@code dir}. */
  private static void requireLocalShards(Path dir, JsonNode manifest) {
    for (JsonNode group : manifest) {
      JsonNode paths = group.get("paths");
      if (paths == null || !paths.isArray() || paths.isEmpty()) {
        throw new ModelFormatException("a weightsManifest group lists no shard paths");
      }
      for (JsonNode p : paths) {
        if (!dir.resolve(p.asText()).normalize().startsWith(dir)) {
          throw new ModelFormatException("shard path '" + p.asText()
              + "' leaves the model folder");
        }
      }
    }
  }

  private static KerasWeight weight(String name, TensorProto t) {
    if (t.getDtype() != DataType.DT_FLOAT) {
      throw new ModelFormatException("weight '" + name + "' has dtype " + t.getDtype()
          + ": a Keras layers model's weights are float32");
    }
    return new KerasWeight(name, TensorProtos.shape(t), TensorProtos.floats(t));
  }

  /** IEEE 754 half precision to float (see {@link Float16}). */
  static float halfToFloat(short h) {
    return Float16.toFloat(h & 0xffff);
  }
}
