package dev.dks.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Runs one {@code dks} command in this (fresh) JVM, then prints {@code exit CODE threads N}: N is
 * the number of the process's threads named {@code java} (in /proc/self/task), which are the
 * launcher's main thread and the native threads TensorFlow started from it (its thread pools);
 * the JVM's own threads carry other names. Used by {@link TrainFlagsTest} to see the intra-op
 * pool that {@code --threads} sizes.
 */
final class ThreadCountProbe {
  private ThreadCountProbe() {}

  public static void main(String[] args) throws IOException {
    int code = DksCommand.newCommandLine().execute(args);
    long n;
    try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
      n = tasks.filter(t -> {
        try {
          return Files.readString(t.resolve("comm")).strip().equals("java");
        } catch (IOException e) {
          return false; // the thread ended meanwhile
        }
      }).count();
    }
    System.out.println("exit " + code + " threads " + n);
  }
}
