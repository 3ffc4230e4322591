package dev.dks.cli;

import dev.dks.savedmodels.ModelReaders;
import dev.dks.savedmodels.SavedModelReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Reads the MODEL argument of {@code inspect}, {@code rewrite}, {@code verify} and {@code
 * convert} with {@link ModelReaders} (any format it reads), and the SavedModel of {@code export}
 * with {@link SavedModelReader}. The readers' warnings are part of the commands' reports, so
 * their {@code java.util.logging} copies are silenced here.
 */
final class ModelInput {
  /** Held strongly: a logger's level is lost when the logger is garbage-collected. */
  private static final Logger READERS = Logger.getLogger("dev.dks.savedmodels");

  private ModelInput() {}

  /** Reads the model at {@code path}; errors are {@code ModelFormatException}s naming it. */
  static ModelReaders.Loaded load(Path path) {
    READERS.setLevel(Level.OFF);
    return ModelReaders.readDetailed(path);
  }

  /**
   * Reads the SavedModel folder at {@code path} (a {@code saved_model.pb}/{@code .pbtxt} file
   * stands for its folder) with the given tags (none: the meta graph tagged {@code serve}, else
   * the only one).
   *
   * @throws IllegalArgumentException when the path holds a model of another format
   */
  static SavedModelReader.Result savedModel(Path path, String... tags) {
    READERS.setLevel(Level.OFF);
    Path abs = path.toAbsolutePath().normalize();
    ModelReaders.Format f = ModelReaders.formatOf(abs);
    if (f != ModelReaders.Format.SAVED_MODEL) {
      throw new IllegalArgumentException(abs + " is a " + f.label() + ", not a SavedModel folder:"
          + " use 'dks convert' for it");
    }
    return SavedModelReader.readDetailed(Files.isDirectory(abs) ? abs : abs.getParent(), tags);
  }
}
