package dev.dks.savedmodels;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads a model's file into memory only when its size is within a budget (untrusted models, issue
 * 17): {@code saved_model.pb(txt)}, frozen graphs, {@code model.json}, weight shards and the
 * shaping record are read whole, so a file larger than the heap (a sparse file costs nothing on
 * disk) would end the JVM with an {@link OutOfMemoryError}. The budget is a quarter of the JVM's
 * maximum heap (the parsed copy, a tree or a protocol buffer, needs more again), and at most what a
 * Java array holds (protocol buffers are limited to 2 GiB anyway); beyond it the read fails with a
 * {@link ModelFormatException} naming the file and both sizes, before anything is allocated.
 */
public final class BoundedFiles {
  private BoundedFiles() {}

  /** The largest file this class reads: a quarter of the heap, at most a Java array. */
  public static long budget() {
    return Math.min(Runtime.getRuntime().maxMemory() / 4, Integer.MAX_VALUE - 8L);
  }

  /**
   * Fails when {@code file} is larger than {@link #budget()}.
   *
   * @throws ModelFormatException naming the file and both sizes
   * @throws IOException when its size cannot be read
   */
  public static void requireWithinBudget(Path file) throws IOException {
    long size = Files.size(file);
    long budget = budget();
    if (size > budget) {
      throw new ModelFormatException(file + " is " + size + " bytes, more than dks reads into "
          + "memory (" + budget + " bytes: a quarter of the Java heap, at most 2 GiB); if the "
          + "file is genuine, run with a larger heap (DKS_JAVA_OPTS=-Xmx...)");
    }
  }

  /** {@link Files#readAllBytes} after {@link #requireWithinBudget}. */
  public static byte[] readAllBytes(Path file) throws IOException {
    requireWithinBudget(file);
    return Files.readAllBytes(file);
  }

  /** {@link Files#readString} (UTF-8) after {@link #requireWithinBudget}. */
  public static String readString(Path file) throws IOException {
    requireWithinBudget(file);
    return Files.readString(file);
  }
}
