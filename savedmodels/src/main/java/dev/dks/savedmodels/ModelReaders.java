package dev.dks.savedmodels;

import dev.dks.rewriter.model.Model;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dks.savedmodels.keras.KerasModelReader;
import dev.dks.savedmodels.tfjs.TfjsGraphModelReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Reads a model in any supported format, chosen from the path:
 *
 * <ul>
 *   <li>a folder with {@code saved_model.pb} or {@code saved_model.pbtxt}: {@link
 *       SavedModelReader} (a file named {@code saved_model.pb}/{@code .pbtxt} stands for its
 *       folder);
 *   <li>any other {@code .pb} file: a frozen GraphDef, {@link FrozenGraphReader}.
 * </ul>
 *
 * Anything else fails with a {@link ModelFormatException} that names the path and lists the
 * accepted formats: SavedModel folders, frozen GraphDefs, TensorFlow.js graph models, Keras
 * layers models (TF.js layers format) and Keras HDF5 files. Keras v3 {@code .keras} archives are
 * recognized and reported as not supported yet.
 */
public final class ModelReaders {
  /** The formats this class reads, for messages. */
  public static final String ACCEPTED = "accepted formats: a SavedModel folder (with "
      + "saved_model.pb or saved_model.pbtxt), a frozen GraphDef file (*.pb), a TensorFlow.js "
      + "graph or layers model (model.json with its weight shards) or a Keras HDF5 file (*.h5)";

  private ModelReaders() {}

  /** A model format. */
  public enum Format {
    /** A SavedModel folder (TF1 or TF2). */
    SAVED_MODEL("saved_model"),
    /** A frozen GraphDef {@code .pb} file. */
    FROZEN_GRAPH("frozen_graph"),
    /** A TensorFlow.js graph model ({@code model.json}, format graph-model). */
    TFJS_GRAPH("tfjs_graph_model"),
    /** A Keras model in the TensorFlow.js layers format ({@code model.json}, layers-model). */
    KERAS_LAYERS("keras_layers_model"),
    /** A Keras HDF5 file ({@code .h5}: model_config + weights). */
    KERAS_H5("keras_h5");

    private final String label;

    Format(String label) {
      this.label = label;
    }

    /** A short snake_case name for reports, e.g. {@code frozen_graph}. */
    public String label() {
      return label;
    }
  }

  /**
   * A model with where it came from.
   *
   * @param model the TF1-style model
   * @param format the format it was read from
   * @param path the absolute path read (the folder for a SavedModel)
   * @param warnings what the reader left out or could not understand, one line each
   */
  public record Loaded(Model model, Format format, Path path, List<String> warnings) {
    /** Copies the list. */
    public Loaded {
      warnings = List.copyOf(warnings);
    }
  }

  /** Reads the model at {@code path} (see the class comment). */
  public static Model read(Path path) {
    return readDetailed(path).model();
  }

  /**
   * Reads the model at {@code path} with its format and the reader's warnings.
   *
   * @throws ModelFormatException naming the path when it is missing, of an unsupported format, or
   *     unreadable
   * @throws dev.dks.rewriter.safety.UnsafeOpsException when a SavedModel's init or restore op,
   *     which TensorFlow's loader runs, holds an op with effects outside the tensors
   */
  public static Loaded readDetailed(Path path) {
    return readDetailed(path, Set.of());
  }

  /**
   * As {@link #readDetailed(Path)}, letting TensorFlow's loader run the policy ops in {@code
   * allowedOps} in a SavedModel's init or restore op (see {@link
   * SavedModelReader#readDetailed(Path, Set, String...)}); the other formats run nothing.
   */
  public static Loaded readDetailed(Path path, Set<String> allowedOps) {
    Path abs = path.toAbsolutePath().normalize();
    Format f = formatOf(abs);
    if (f == Format.SAVED_MODEL) {
      Path dir = Files.isDirectory(abs) ? abs : abs.getParent();
      SavedModelReader.Result r = SavedModelReader.readDetailed(dir, allowedOps);
      return new Loaded(r.model(), f, dir, r.warnings());
    }
    return switch (f) {
      case FROZEN_GRAPH -> {
        FrozenGraphReader.Result r = FrozenGraphReader.readDetailed(abs);
        yield new Loaded(r.model(), f, abs, r.warnings());
      }
      case TFJS_GRAPH -> {
        TfjsGraphModelReader.Result r = TfjsGraphModelReader.readDetailed(modelJson(abs));
        yield new Loaded(r.model(), f, modelJson(abs), r.warnings());
      }
      case KERAS_LAYERS -> new Loaded(KerasModelReader.readLayersJson(modelJson(abs)), f,
          modelJson(abs), List.of());
      case KERAS_H5 -> new Loaded(KerasModelReader.readH5(abs), f, abs, List.of());
      case SAVED_MODEL -> throw new IllegalStateException("handled above");
    };
  }

  private static Path modelJson(Path abs) {
    return Files.isDirectory(abs) ? abs.resolve("model.json") : abs;
  }

  /** Graph or layers model, from the model.json's format field or its topology's shape. */
  private static Format jsonFormat(Path json) {
    JsonNode root;
    try {
      BoundedFiles.requireWithinBudget(json);
      root = new ObjectMapper().readTree(json.toFile());
    } catch (IOException e) {
      throw new ModelFormatException(json + " is not readable JSON: " + e.getMessage(), e);
    }
    String format = root.path("format").asText("");
    if (format.equals("graph-model")) {
      return Format.TFJS_GRAPH;
    }
    if (format.equals("layers-model")) {
      return Format.KERAS_LAYERS;
    }
    JsonNode topology = root.path("modelTopology");
    if (topology.has("node")) {
      return Format.TFJS_GRAPH;
    }
    if (topology.has("model_config") || topology.has("class_name")) {
      return Format.KERAS_LAYERS;
    }
    throw new ModelFormatException(json + " is JSON but neither a TensorFlow.js graph model nor "
        + "a layers model (no format field, no modelTopology.node or model_config)");
  }

  /**
   * The format of the model at {@code path}, from the file system only (nothing is parsed).
   *
   * @throws ModelFormatException when the path is missing or no supported format
   */
  public static Format formatOf(Path path) {
    Path abs = path.toAbsolutePath().normalize();
    if (!Files.exists(abs)) {
      throw new ModelFormatException(abs + " does not exist (" + ACCEPTED + ")");
    }
    String name = abs.getFileName() == null ? ""
        : abs.getFileName().toString().toLowerCase(Locale.ROOT);
    if (Files.isDirectory(abs)) {
      if (Files.isRegularFile(abs.resolve("saved_model.pb"))
          || Files.isRegularFile(abs.resolve("saved_model.pbtxt"))) {
        return Format.SAVED_MODEL;
      }
      if (Files.isRegularFile(abs.resolve("model.json"))) {
        return jsonFormat(abs.resolve("model.json"));
      }
      throw new ModelFormatException(abs + " is a folder without saved_model.pb or "
          + "saved_model.pbtxt, so not a SavedModel (" + ACCEPTED + ")");
    }
    if (name.equals("saved_model.pb") || name.equals("saved_model.pbtxt")) {
      return Format.SAVED_MODEL;
    }
    if (name.endsWith(".pb")) {
      return Format.FROZEN_GRAPH;
    }
    if (name.endsWith(".json")) {
      return jsonFormat(abs);
    }
    if (name.endsWith(".h5") || name.endsWith(".hdf5")) {
      return Format.KERAS_H5;
    }
    if (name.endsWith(".keras")) {
      throw notYet(abs, "a Keras v3 archive (.keras)");
    }
    throw new ModelFormatException(abs + " is not a model this version reads (" + ACCEPTED
        + ")");
  }

  private static ModelFormatException notYet(Path p, String what) {
    return new ModelFormatException(p + " looks like " + what + ", which is not supported yet ("
        + ACCEPTED + ")");
  }
}
