package dev.dks.trainers.device;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Warns, once per process, when training would run TensorFlow's oneDNN kernels at AVX-512 width.
 *
 * <p>On AVX-512 CPUs the oneDNN kernels bundled with TF Java 1.1.0 (TF 2.18) corrupt the native
 * heap in training steps of small convolutional nets (measured on a 2-core AMD EPYC with
 * avx512f: the first SGD step of a ResNet-18 of width 4 at 16x16 aborts the JVM with "malloc():
 * unaligned fastbin chunk detected" or "corrupted size vs. prev_size"). With {@code
 * ONEDNN_MAX_CPU_ISA=AVX2}, or {@code TF_ENABLE_ONEDNN_OPTS=0}, the same step runs. TF reads both
 * variables from the environment when its natives load, so a JVM cannot set them for itself:
 * {@code ./dks}, the benchmark scripts and the Maven test runs export the cap
 * ({@code scripts/tf-env.sh}); Java programs that train must start their JVM with it. The cap
 * rather than {@code TF_ENABLE_ONEDNN_OPTS=0}: at AVX2 oneDNN computes the trainers' ops and
 * gradients as closely to float64 as TF's own kernels, and a training step costs about 2.5x less
 * CPU (BENCHMARKS.md, "oneDNN at AVX2 against oneDNN off").
 *
 * <p>The check reads {@code /proc/cpuinfo} (Linux) and the two variables; anywhere else it says
 * nothing.
 */
public final class OneDnnIsaCheck {
  private static final AtomicBoolean WARNED = new AtomicBoolean();

  private OneDnnIsaCheck() {}

  /**
   * The warning for this CPU and environment, or null when there is nothing to warn about.
   *
   * @param cpuFlags the flags line(s) of {@code /proc/cpuinfo} (any text; searched for {@code
   *     avx512f})
   * @param env the process environment
   */
  public static String warning(String cpuFlags, Map<String, String> env) {
    boolean avx512 = cpuFlags != null && cpuFlags.contains("avx512f");
    boolean capped = env.get("ONEDNN_MAX_CPU_ISA") != null;
    boolean off = "0".equals(env.get("TF_ENABLE_ONEDNN_OPTS"));
    if (!avx512 || capped || off) {
      return null;
    }
    return "warning: this CPU has AVX-512, where TensorFlow's oneDNN kernels (TF 2.18) corrupt the"
        + " native heap in training steps and can crash the JVM; start the JVM with"
        + " ONEDNN_MAX_CPU_ISA=AVX2 in its environment (./dks does this; see scripts/tf-env.sh)";
  }

  /** Prints {@link #warning} for this machine to stderr, the first time only. */
  public static void warnOnce() {
    if (WARNED.getAndSet(true)) {
      return;
    }
    String flags;
    try {
      flags = Files.readString(Path.of("/proc/cpuinfo"));
    } catch (IOException | RuntimeException e) {
      return;
    }
    String w = warning(flags, System.getenv());
    if (w != null) {
      System.err.println(w);
    }
  }
}
