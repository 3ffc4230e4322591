package dev.dks.savedmodels;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Keeps the files a model names inside the model's own folder (untrusted models, issue 17): a
 * path taken from a model file (a TF.js weight shard, an asset) is resolved against the model's
 * folder, {@code ..} and symbolic links included ({@link Path#toRealPath}), and must still lie
 * inside that folder's real path. Absolute paths, {@code ../secret.bin} and links pointing out of
 * the folder are refused with a {@link ModelFormatException} naming the model file and the path,
 * before any byte of the outside file is read.
 */
public final class ModelPaths {
  private ModelPaths() {}

  /**
   * The real path of {@code relative} inside {@code folder}.
   *
   * @param modelFile the file that names the path (for the message)
   * @param folder the model's folder
   * @param relative the path as the model file writes it
   * @param what what the path is, for the message (e.g. "the weight shard of weightsManifest[0]")
   * @return the resolved real path, inside the real path of {@code folder}
   * @throws ModelFormatException if the path is absolute, leaves the folder (after resolving
   *     {@code ..} and links), or does not exist
   */
  public static Path resolveInside(Path modelFile, Path folder, String relative, String what) {
    Path rel;
    try {
      rel = folder.getFileSystem().getPath(relative);
    } catch (InvalidPathException e) {
      throw refuse(modelFile, relative, what, "is not a valid path (" + e.getReason() + ")");
    }
    if (rel.isAbsolute() || rel.getRoot() != null) {
      throw refuse(modelFile, relative, what,
          "is absolute; a model may only name files inside its own folder " + folder);
    }
    Path base;
    try {
      base = folder.toRealPath();
    } catch (IOException e) {
      throw new ModelFormatException(modelFile + ": cannot resolve the model folder " + folder
          + ": " + e, e);
    }
    Path lexical = base.resolve(rel).normalize();
    if (!lexical.startsWith(base)) {
      throw refuse(modelFile, relative, what,
          "leaves the model folder " + base + "; a model may only name files inside it");
    }
    Path real;
    try {
      real = lexical.toRealPath();
    } catch (NoSuchFileException e) {
      throw new ModelFormatException(modelFile + ": " + what + " '" + relative + "' ("
          + lexical + ") is missing");
    } catch (IOException e) {
      throw new ModelFormatException(modelFile + ": cannot resolve " + what + " '" + relative
          + "' (" + lexical + "): " + e, e);
    }
    if (!real.startsWith(base)) {
      throw refuse(modelFile, relative, what, "is a symbolic link to " + real
          + ", outside the model folder " + base + "; a model may only name files inside it");
    }
    if (!Files.isRegularFile(real)) {
      throw refuse(modelFile, relative, what, "is not a regular file");
    }
    return real;
  }

  private static ModelFormatException refuse(Path modelFile, String relative, String what,
      String why) {
    return new ModelFormatException(modelFile + ": " + what + " '" + relative + "' " + why);
  }
}
