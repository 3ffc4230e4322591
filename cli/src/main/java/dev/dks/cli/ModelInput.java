package dev.dks.cli;

import dev.dks.savedmodels.ModelReaders;
import dev.dks.savedmodels.SavedModelReader;
import dev.dks.savedmodels.UntrustedOps;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
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

  /**
   * Reads the model at {@code path} for reports ({@code inspect}): a SavedModel whose init or
   * restore holds an unsafe op not allowed by {@code flags} is refused (loading would run it);
   * unsafe ops on the serving path become warnings. Errors are {@code ModelFormatException}s naming the path.
   */
  static ModelReaders.Loaded loadForInspection(Path path, UntrustedFlags flags) {
    READERS.setLevel(Level.OFF);
    Set<String> allowed = UntrustedFlags.allowed(flags); // --allow-ops: init/restore ops to run
    UntrustedOps.requireLoadableSavedModel(path, allowed);
    ModelReaders.Loaded l = ModelReaders.readDetailed(path, allowed);
    List<String> warnings = new ArrayList<>(l.warnings());
    warnings.addAll(UntrustedOps.warnings(path, l.model()));
    return new ModelReaders.Loaded(l.model(), l.format(), l.path(), warnings);
  }

  /** Reads the model at {@code path}, refusing unsafe ops not in {@code flags} (none: no op). */
  static ModelReaders.Loaded load(Path path, UntrustedFlags flags) {
    READERS.setLevel(Level.OFF);
    UntrustedFlags.requireSafeSavedModel(path, flags);
    ModelReaders.Loaded loaded = ModelReaders.readDetailed(path, UntrustedFlags.allowed(flags));
    UntrustedOps.requireSafe(path, loaded.model(), UntrustedFlags.allowed(flags));
    return loaded;
  }

  /**
   * Reads the SavedModel folder at {@code path} (a {@code saved_model.pb}/{@code .pbtxt} file
   * stands for its folder) with the given tags (none: the meta graph tagged {@code serve}, else
   * the only one).
   *
   * @throws IllegalArgumentException when the path holds a model of another format
   */
  static SavedModelReader.Result savedModel(Path path, String... tags) {
    return savedModel(path, null, tags);
  }

  /** {@link #savedModel(Path, String...)} refusing unsafe ops not in {@code flags}. */
  static SavedModelReader.Result savedModel(Path path, UntrustedFlags flags, String... tags) {
    READERS.setLevel(Level.OFF);
    Path abs = path.toAbsolutePath().normalize();
    ModelReaders.Format f = ModelReaders.formatOf(abs);
    if (f != ModelReaders.Format.SAVED_MODEL) {
      throw new IllegalArgumentException(abs + " is a " + f.label() + ", not a SavedModel folder:"
          + " use 'dks convert' for it");
    }
    UntrustedFlags.requireSafeSavedModel(abs, flags);
    return SavedModelReader.readDetailed(Files.isDirectory(abs) ? abs : abs.getParent(),
        UntrustedFlags.allowed(flags), tags);
  }
}
