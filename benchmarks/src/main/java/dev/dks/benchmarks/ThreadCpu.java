package dev.dks.benchmarks;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * CPU time of this process's threads by kind, from Linux's {@code /proc/self/task/TID/stat}
 * (user + system time in clock ticks, 100 per second): the rewriting thread ({@code main}), the
 * garbage collector, the JIT compilers, the fork-join pool (dks-init's parallel sampling) and the
 * rest (TensorFlow's own threads, JFR, ...). Used to say where a process's CPU time beyond the
 * rewriting thread's goes. Empty where {@code /proc} is missing (not Linux).
 *
 * <p>A thread that ended between two snapshots loses its time; the resolution is 10 ms per
 * thread.
 */
final class ThreadCpu {
  /** The kinds, in report order. */
  static final List<String> KINDS = List.of("main", "gc", "jit", "fork-join", "other");

  private static final double MS_PER_TICK = 10.0;

  private ThreadCpu() {}

  /** CPU ms of every thread alive now, by thread id. */
  static Map<String, double[]> snapshot() {
    Map<String, double[]> out = new TreeMap<>();
    Path tasks = Path.of("/proc/self/task");
    if (!Files.isDirectory(tasks)) {
      return out;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(tasks)) {
      for (Path t : ds) {
        try {
          String stat = Files.readString(t.resolve("stat"));
          // "tid (comm) state ..." : comm may hold spaces and parentheses; fields follow the last ')'
          int open = stat.indexOf('(');
          int close = stat.lastIndexOf(')');
          String comm = stat.substring(open + 1, close);
          String[] f = stat.substring(close + 2).split(" ");
          // after the comm: field 3 is state (index 0); utime is field 14, stime 15 (index 11, 12)
          double ms = (Long.parseLong(f[11]) + Long.parseLong(f[12])) * MS_PER_TICK;
          out.put(t.getFileName() + " " + comm, new double[] {ms});
        } catch (IOException | RuntimeException e) {
          // the thread ended while being read
        }
      }
    } catch (IOException e) {
      return out;
    }
    return out;
  }

  /** CPU ms spent between two snapshots, by kind ({@link #KINDS}). */
  static Map<String, Double> byKind(Map<String, double[]> before, Map<String, double[]> after) {
    Map<String, Double> out = new LinkedHashMap<>();
    KINDS.forEach(k -> out.put(k, 0.0));
    after.forEach((key, v) -> {
      double[] b = before.get(key);
      double d = v[0] - (b == null ? 0 : b[0]);
      out.merge(kind(key.substring(key.indexOf(' ') + 1)), d, Double::sum);
    });
    return out;
  }

  /** The kind of a thread by its Linux name (the first 15 characters of the Java name). */
  static String kind(String comm) {
    if (comm.equals("java") || comm.equals("main")) {
      return "main"; // the JVM's primordial thread runs main
    }
    if (comm.startsWith("GC Thread") || comm.startsWith("G1 ") || comm.startsWith("VM Thread")) {
      return "gc";
    }
    if (comm.startsWith("C1 Compiler") || comm.startsWith("C2 Compiler")) {
      return "jit";
    }
    if (comm.startsWith("ForkJoinPool")) {
      return "fork-join";
    }
    return "other";
  }
}
