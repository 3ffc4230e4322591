package dev.dks.rewriter.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Whole-file writes that a reader never sees half done: the bytes go to a temporary file
 * {@code .<name>.<random>.tmp} in the target's folder, which is forced to disk and then moved over
 * the target with {@code ATOMIC_MOVE}. The temporary file is created with {@link
 * Files#createFile}, so the result gets the permissions of any new file (the process umask), not
 * the owner-only {@code rw-------} of {@link Files#createTempFile}.
 */
public final class AtomicFiles {
  private AtomicFiles() {}

  /** Writes something to a stream; may fail with an {@link IOException}. */
  @FunctionalInterface
  public interface StreamWriter {
    /** Writes to {@code out} (not closing it). */
    void write(OutputStream out) throws IOException;
  }

  /**
   * Replaces {@code target} with what {@code writer} writes (creating its folder). If the writer,
   * or anything before the move, fails, the temporary file is deleted, the target keeps its
   * previous content and the failure is rethrown. A file system that cannot replace files
   * atomically is an {@link IOException}; nothing is written non-atomically.
   */
  public static void write(Path target, StreamWriter writer) throws IOException {
    Path abs = target.toAbsolutePath();
    Path dir = abs.getParent();
    Files.createDirectories(dir);
    Path tmp = createIn(dir, "." + abs.getFileName() + ".", ".tmp");
    boolean moved = false;
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE,
              StandardOpenOption.TRUNCATE_EXISTING);
          OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16)) {
        writer.write(out);
        out.flush();
        ch.force(true);
      }
      try {
        Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        throw new IOException("the file system of " + dir + " cannot replace files atomically; "
            + "refusing to write " + abs.getFileName() + " non-atomically", e);
      }
      moved = true;
    } finally {
      if (!moved) {
        Files.deleteIfExists(tmp);
      }
    }
  }

  /** {@link #write(Path, StreamWriter)} of the given bytes. */
  public static void write(Path target, byte[] bytes) throws IOException {
    write(target, out -> out.write(bytes));
  }

  /** {@link #write(Path, StreamWriter)} of a copy of {@code source}. */
  public static void copy(Path source, Path target) throws IOException {
    write(target, out -> Files.copy(source, out));
  }

  /** A new empty file {@code <prefix><random><suffix>} in {@code dir}, default permissions. */
  private static Path createIn(Path dir, String prefix, String suffix) throws IOException {
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
