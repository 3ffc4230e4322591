package dev.dks.cli;

import dev.dks.savedmodels.ModelReaders;
import java.nio.file.Path;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Reads the MODEL argument of {@code inspect}, {@code rewrite} and {@code verify} with {@link
 * ModelReaders} (SavedModel folder or frozen {@code .pb}). The readers' warnings are part of the
 * commands' reports, so their {@code java.util.logging} copies are silenced here.
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
}
