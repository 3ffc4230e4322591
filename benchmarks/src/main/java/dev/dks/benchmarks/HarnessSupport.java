package dev.dks.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.trainers.data.Dataset;
import dev.dks.trainers.data.SyntheticTask;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.tensorflow.TensorFlow;

/**
 * What {@link RewriteScalingHarness} and {@link ConversionBenchmarkHarness} share: repeated wall
 * and CPU times with their medians, the environment line they start with, and the run's end (the
 * closing line and the JSON file of the results).
 */
final class HarnessSupport {
  private HarnessSupport() {}

  /** Repeated measurements of one quantity: wall and CPU milliseconds. */
  static class Times {
    final List<Double> wall = new ArrayList<>();
    final List<Double> cpu = new ArrayList<>();

    void add(long wallNanos, long cpuNanos) {
      wall.add(wallNanos / 1e6);
      cpu.add(cpuNanos / 1e6);
    }

    double wall() {
      return median(wall);
    }

    double cpu() {
      return median(cpu);
    }

    boolean isEmpty() {
      return wall.isEmpty();
    }
  }

  /** Prints the JVM, core count, max heap, garbage collectors and TensorFlow version. */
  static void printEnvironment(PrintStream out) {
    out.printf(Locale.ROOT, "java %s, %d cores, max heap %d MB, %s, TensorFlow %s%n",
        System.getProperty("java.vm.version"), Runtime.getRuntime().availableProcessors(),
        Runtime.getRuntime().maxMemory() >> 20,
        ManagementFactory.getGarbageCollectorMXBeans().stream().map(b -> b.getName()).toList(),
        TensorFlow.version());
  }

  /**
   * Prints the run's length since {@code start} ({@code System.nanoTime()}) and where the JSON
   * goes, then writes {@code results} there with the core count, Java and TensorFlow versions.
   */
  static void finish(PrintStream out, long start, Path json, List<?> results)
      throws IOException {
    out.printf(Locale.ROOT, "%nwhole run %.0f s; JSON: %s%n", (System.nanoTime() - start) / 1e9,
        json);
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("cores", Runtime.getRuntime().availableProcessors());
    root.put("java", System.getProperty("java.vm.version"));
    root.put("tensorflow", TensorFlow.version());
    root.put("results", results);
    Path parent = json.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), root);
  }

  /** The median, NaN for none. */
  static double median(List<Double> v) {
    if (v == null || v.isEmpty()) {
      return Double.NaN;
    }
    double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
  }

  /** The first line of an error message, cut to {@code max} characters. */
  static String firstLine(String s, int max) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    String l = nl < 0 ? s : s.substring(0, nl);
    return l.length() > max ? l.substring(0, max) + "..." : l;
  }

  /**
   * Parses {@code --key value} pairs: calls {@code set} with each pair, in order. Returns false
   * when {@code -h} or {@code --help} was given (the caller prints its usage). A key without a
   * value is refused; {@code set} refuses unknown keys with {@link #unknown}.
   */
  static boolean parsePairs(String[] args, java.util.function.BiConsumer<String, String> set) {
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("-h") || a.equals("--help")) {
        return false;
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(a + " needs a value (--help lists the options)");
      }
      set.accept(a, args[++i]);
    }
    return true;
  }

  /** The refusal of an unknown option. */
  static IllegalArgumentException unknown(String option) {
    return new IllegalArgumentException("unknown argument '" + option
        + "' (--help lists the options)");
  }

  /**
   * {@code parse.apply(args)}, or, when it refuses them (an {@link IllegalArgumentException},
   * number formats included), one {@code error:} line on stderr and exit code 2.
   */
  static <T> T parseOrExit(String[] args, java.util.function.Function<String[], T> parse) {
    try {
      return parse.apply(args);
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      System.exit(2);
      throw e;
    }
  }

  /** A fixed batch: row-major NHWC images, one-hot labels and the image shape, batch first. */
  record FixedBatch(float[] x, float[] y, long[] shape) {}

  /**
   * A seeded synthetic batch of {@code batch} examples shaped like {@code model}'s serving input
   * ({@code [-1, H, W, C]}), with {@code classes} one-hot labels.
   */
  static FixedBatch syntheticBatch(Model model, int batch, int classes) {
    long[] in = model.signature(Signature.SERVING_DEFAULT).inputs()
        .values().iterator().next().shape();
    int h = (int) in[1];
    int w = (int) in[2];
    int c = (int) in[3];
    Dataset data = SyntheticTask.generate("synthetic", batch, h, w, c, classes, 1.0, 0, 0);
    float[] y = new float[batch * classes];
    for (int i = 0; i < batch; i++) {
      y[i * classes + data.labels()[i]] = 1f;
    }
    return new FixedBatch(data.images(), y, new long[] {batch, h, w, c});
  }
}
