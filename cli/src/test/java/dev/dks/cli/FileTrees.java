package dev.dks.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Folder trees for the cli tests that damage a copy of a model folder (a SavedModel, a converted
 * model): copy one, delete a part of one. Plain files and folders only (links are followed, as
 * {@link Files#walk} does); any failure is the test's {@link IOException}.
 */
final class FileTrees {
  private FileTrees() {}

  /** Copies the tree at {@code src} to {@code dst} (which must not exist) and returns dst. */
  static Path copy(Path src, Path dst) throws IOException {
    try (Stream<Path> s = Files.walk(src)) {
      for (Path p : s.toList()) {
        Path q = dst.resolve(src.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(q);
        } else {
          Files.copy(p, q);
        }
      }
    }
    return dst;
  }

  /** Deletes the tree at {@code p}, which must exist. */
  static void delete(Path p) throws IOException {
    try (Stream<Path> s = Files.walk(p)) {
      for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(q);
      }
    }
  }
}
