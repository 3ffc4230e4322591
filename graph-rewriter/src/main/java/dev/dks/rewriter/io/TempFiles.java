package dev.dks.rewriter.io;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Temporary files for atomic writes (write beside the target, then move over it). Unlike
 * {@link Files#createTempFile(Path, String, String)}, which makes owner-only ({@code 0600})
 * files, the file gets the permissions of any new file (the process umask), so a plot,
 * checkpoint or report moved into place is as readable as one written directly.
 */
public final class TempFiles {
  private TempFiles() {}

  /**
   * Creates a new empty file {@code <prefix><random><suffix>} in {@code dir} (which must exist)
   * with the default permissions.
   */
  public static Path createIn(Path dir, String prefix, String suffix) throws IOException {
    for (int attempt = 0; ; attempt++) {
      Path p = dir.resolve(prefix + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(),
          36) + suffix);
      try {
        return Files.createFile(p);
      } catch (FileAlreadyExistsException e) {
        if (attempt >= 100) {
          throw e;
        }
      }
    }
  }
}
