package dev.dks.savedmodels.keras;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dks.rewriter.model.Model;
import dev.dks.savedmodels.BoundedFiles;
import dev.dks.savedmodels.ModelFormatException;
import io.jhdf.HdfFile;
import io.jhdf.Superblock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Reads Keras models into a {@link Model}: a TF1 inference graph (NHWC, float32) built at NodeDef
 * level from the Keras model config, the trained weights as {@code VariableV2} values, and one
 * {@code serving_default} signature (method {@code tensorflow/serving/predict}) whose inputs and
 * outputs are keyed by the Keras input and output layer names.
 *
 * <p>Two file formats:
 *
 * <ul>
 *   <li>{@link #readH5 Keras HDF5} ({@code model.save("m.h5")}): the root attribute {@code
 *       model_config} (JSON) and the group {@code model_weights/<layer>/<weight path>}, read with
 *       the pure-Java HDF5 reader jHDF.
 *   <li>{@link #readLayersJson TensorFlow.js layers model}: {@code model.json} whose {@code
 *       modelTopology} is (or holds as {@code model_config}) the Keras config, and whose {@code
 *       weightsManifest} names the binary shards; uint8/uint16/float16-quantized weights are
 *       dequantized ({@code q * scale + min}).
 * </ul>
 *
 * <p>Models: Functional (Keras 2 and Keras 3 inbound-node forms, shared layers called several
 * times) and Sequential. Layers: InputLayer, Conv2D, DepthwiseConv2D, SeparableConv2D, Dense,
 * BatchNormalization (a real {@code FusedBatchNormV3} inference node over variables, so the
 * rewriter can strip it), Activation, ReLU, LeakyReLU, PReLU, Softmax, Add, Concatenate,
 * ZeroPadding2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D,
 * Flatten, Reshape and Dropout / SpatialDropout2D (identity at inference). Activations: linear,
 * relu, relu6, sigmoid, tanh, softmax, elu, selu, softplus, softsign, swish/silu, gelu (exact,
 * erf form). Not supported, each failing with a {@link ModelFormatException} naming the layer:
 * other layer types (including nested models), channels_first, grouped convolutions, batch
 * normalization over an axis other than the last, padding other than same/valid.
 *
 * <p>Every failure (unreadable, truncated or non-HDF5/non-JSON file, a weights-only file, an
 * unknown layer, weights that do not fit the config, a graph TensorFlow rejects) is a {@link
 * ModelFormatException} whose message starts with the file's path.
 */
public final class KerasModelReader {
  private static final ObjectMapper JSON = new ObjectMapper();

  private KerasModelReader() {}

  /**
   * Reads a Keras HDF5 model file.
   *
   * @throws ModelFormatException naming the file (and the layer, when one is at fault)
   */
  public static Model readH5(Path h5) {
    Path abs = h5.toAbsolutePath().normalize();
    requireFile(abs);
    try {
      String configJson;
      Map<String, List<KerasWeight>> weights;
      try (HdfFile f = new HdfFile(abs)) {
        requireComplete(f);
        H5Links.requireNoExternalLinks(f); // nothing outside the file (issue 17)
        configJson = H5Weights.modelConfig(f);
        if (configJson == null) {
          throw new ModelFormatException("the HDF5 file has no model_config attribute (a "
              + "weights-only file written by save_weights?): the architecture is unknown");
        }
        weights = H5Weights.read(f);
      }
      return KerasGraphBuilder.build(KerasConfig.parse(parse(configJson)), weights);
    } catch (ModelFormatException e) {
      throw new ModelFormatException(abs + ": " + e.getMessage(), e);
    } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
      throw new ModelFormatException(abs + " is not a readable Keras HDF5 model: " + e, e);
    }
  }

  /**
   * Reads a TensorFlow.js layers model ({@code model.json} and the shards it names, beside it).
   *
   * @throws ModelFormatException naming the file (and the layer, when one is at fault)
   */
  public static Model readLayersJson(Path modelJson) {
    Path abs = modelJson.toAbsolutePath().normalize();
    requireFile(abs);
    try {
      JsonNode root = parse(BoundedFiles.readString(abs));
      if (!root.isObject()) {
        throw new ModelFormatException("model.json is not a JSON object");
      }
      JsonNode topo = root.get("modelTopology");
      if (topo == null || !topo.isObject()) {
        throw new ModelFormatException("model.json has no modelTopology object");
      }
      JsonNode config = topo.has("model_config") ? topo.get("model_config") : topo;
      if (!config.has("class_name") && config.has("node")) {
        throw new ModelFormatException("this is a TensorFlow.js graph model (its modelTopology "
            + "is a GraphDef), not a layers model");
      }
      KerasConfig cfg = KerasConfig.parse(config);
      Map<String, List<KerasWeight>> weights =
          LayersWeightsManifest.read(abs, root.get("weightsManifest"));
      return KerasGraphBuilder.build(cfg, weights);
    } catch (ModelFormatException e) {
      throw new ModelFormatException(abs + ": " + e.getMessage(), e);
    } catch (IOException e) {
      throw new ModelFormatException(abs + ": cannot read the file: " + e, e);
    } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
      throw new ModelFormatException(abs + " is not a readable TensorFlow.js layers model: "
          + e, e);
    }
  }

  /**
   * Fails when the file is shorter than the end-of-file address its superblock records (a
   * truncated file: reading its mapped tail would fault), as the HDF5 library does.
   */
  private static void requireComplete(HdfFile f) {
    Superblock sb = f.getHdfBackingStorage().getSuperblock();
    long end = sb.getBaseAddressByte() + sb.getEndOfFileAddress();
    long size = f.size();
    if (end > size) {
      throw new ModelFormatException("the HDF5 file is truncated: its superblock records " + end
          + " bytes, the file has " + size);
    }
  }

  private static JsonNode parse(String json) {
    try {
      return JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new ModelFormatException("the model config is not valid JSON: "
          + e.getOriginalMessage(), e);
    }
  }

  private static void requireFile(Path abs) {
    if (!Files.isRegularFile(abs)) {
      throw new ModelFormatException(abs + " is not a file");
    }
  }
}
