package dev.dks.savedmodels.shaping;

import dev.dks.savedmodels.BoundedFiles;
import dev.dks.savedmodels.ModelFormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Where a SavedModel keeps its {@link ShapingMetadata}: the file {@value #FILE_NAME} in the
 * folder {@value #ASSETS_EXTRA} of the SavedModel folder ({@link #RELATIVE_PATH}). TensorFlow's
 * loaders ({@code SavedModelBundle.load}, {@code tf.saved_model.load}) and TF Serving do not read
 * {@code assets.extra/} (TF Serving reads only its warm-up file there), so the record changes
 * nothing in how the model loads or serves. The exporters write it inside the temporary folder
 * that is renamed into place, so it appears together with the model or not at all.
 */
public final class ShapingMetadataFiles {
  /** The folder TF leaves to other tools. */
  public static final String ASSETS_EXTRA = "assets.extra";
  /** The file name inside {@link #ASSETS_EXTRA}. */
  public static final String FILE_NAME = "dks-shaping.json";
  /** The path relative to the SavedModel folder. */
  public static final String RELATIVE_PATH = ASSETS_EXTRA + "/" + FILE_NAME;

  private ShapingMetadataFiles() {}

  /**
   * The SavedModel folder of {@code model}: the folder itself, or the folder of a {@code
   * saved_model.pb}/{@code .pbtxt} path; empty for anything else (other formats have no folder
   * to hold the record).
   */
  public static Optional<Path> savedModelDir(Path model) {
    Path abs = model.toAbsolutePath().normalize();
    if (Files.isDirectory(abs)) {
      return Files.isRegularFile(abs.resolve("saved_model.pb"))
          || Files.isRegularFile(abs.resolve("saved_model.pbtxt")) ? Optional.of(abs)
          : Optional.empty();
    }
    String name = abs.getFileName() == null ? "" : abs.getFileName().toString();
    return name.equals("saved_model.pb") || name.equals("saved_model.pbtxt")
        ? Optional.of(abs.getParent()) : Optional.empty();
  }

  /** The record file of the model at {@code model}, when it has one. */
  public static Optional<Path> find(Path model) {
    return savedModelDir(model).map(d -> d.resolve(ASSETS_EXTRA).resolve(FILE_NAME))
        .filter(Files::isRegularFile);
  }

  /**
   * The record's bytes, validated by parsing, when the model has one (to copy it unchanged).
   *
   * @throws ModelFormatException when the file is there but unreadable or not a usable record
   */
  public static Optional<byte[]> readBytes(Path model) {
    Optional<Path> f = find(model);
    if (f.isEmpty()) {
      return Optional.empty();
    }
    try {
      byte[] b = BoundedFiles.readAllBytes(f.get());
      ShapingMetadataJson.parse(b, f.get().toString());
      return Optional.of(b);
    } catch (IOException e) {
      throw new ModelFormatException("cannot read " + f.get() + ": " + e.getMessage(), e);
    }
  }

  /**
   * The record of the model at {@code model}, when it has one.
   *
   * @throws ModelFormatException when the file is there but unreadable or not a usable record
   */
  public static Optional<ShapingMetadata> read(Path model) {
    Optional<Path> f = find(model);
    return readBytes(model).map(b -> ShapingMetadataJson.parse(b, f.get().toString()));
  }

  /** The exporters' {@code assetsExtra} argument holding {@code bytes} as the record. */
  public static Map<String, byte[]> assetsExtra(byte[] bytes) {
    return Map.of(FILE_NAME, bytes.clone());
  }

  /** The exporters' {@code assetsExtra} argument holding {@code m} (empty for null). */
  public static Map<String, byte[]> assetsExtra(ShapingMetadata m) {
    return m == null ? Map.of() : Map.of(FILE_NAME, ShapingMetadataJson.write(m));
  }
}
