package dev.dks.trainers.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;

/**
 * The environment {@code ./dks} gives its JVM ({@code scripts/tf-env.sh}) reaches TensorFlow's
 * oneDNN, and the kernels it selects compute the trainers' ops right. A child JVM is started from
 * that environment, with this JVM's TF variables removed (a user who exported none) and {@code
 * ONEDNN_VERBOSE=1} (oneDNN then prints the ISA it dispatches to), and runs {@link
 * OneDnnOpProbe}: Conv2D with its gradients (Conv2DBackpropInput, Conv2DBackpropFilter; strided,
 * VALID, 1-channel, batch 128) and conv, bias, LeakyRelu, mean and MatMul chains, against the
 * same graphs in float64 (TF's Eigen kernels, which oneDNN does not replace). float32 rounding
 * gives about 1e-6 relative to the output's largest value; over all the probe's cases the largest
 * difference was 8.2e-6 (a Tanh output) with oneDNN at AVX2, at SSE4.1, at full AVX-512 and off
 * alike, on the Intel Xeon of 8 December 2026 (BENCHMARKS.md, "oneDNN").
 */
class TfEnvKernelsTest {
  private static final double AGREE = 1e-4;

  private static final Path ROOT = Path.of("").toAbsolutePath().getParent();

  /**
   * Runs the probe on the cases named by {@code cases} in a JVM whose environment is
   * tf-env.sh's, with {@code exported} exported before it is sourced.
   */
  private static String probe(Map<String, String> exported, String cases) throws Exception {
    Path tfEnv = ROOT.resolve("scripts/tf-env.sh");
    assertTrue(Files.isRegularFile(tfEnv), tfEnv + " missing");
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    ProcessBuilder pb = new ProcessBuilder("bash", "-c",
        "source \"$1\" && exec \"$2\" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp \"$3\" \"$4\" "
            + cases, "probe", tfEnv.toString(), java.toString(),
        System.getProperty("java.class.path"), OneDnnOpProbe.class.getName());
    pb.environment().remove("TF_ENABLE_ONEDNN_OPTS");
    pb.environment().remove("ONEDNN_MAX_CPU_ISA");
    pb.environment().putAll(exported);
    pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "2");
    pb.environment().put("ONEDNN_VERBOSE", "1");
    Path log = Files.createTempFile("tf-env-probe", ".txt");
    try {
      Process p = pb.redirectErrorStream(true).redirectOutput(log.toFile()).start();
      if (!p.waitFor(300, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("the probe JVM did not finish in 300 s");
      }
      String out = Files.readString(log, StandardCharsets.UTF_8);
      assertEquals(0, p.exitValue(), out);
      return out;
    } finally {
      Files.deleteIfExists(log);
    }
  }

  private static String line(String out, String regex) {
    Matcher m = Pattern.compile("(?m)^" + regex).matcher(out);
    assertTrue(m.find(), "no line " + regex + " in:\n" + out);
    return m.group(1);
  }

  private static double worst(String out) {
    return Double.parseDouble(line(out, "worst (\\S+) at"));
  }

  private static String kernel(String out) {
    return line(out, "conv2d kernel (\\S+)");
  }

  @Test
  void dksEnvironmentRunsOneDnnAtAvx2AndItAgreesWithFloat64() throws Exception {
    String out = probe(Map.of(), "Conv2D 'chain 4 convs' 'chain 1ch'");
    assertTrue(out.contains("ONEDNN_MAX_CPU_ISA=AVX2)"), out);
    // the cap reached oneDNN (on an AVX-512 CPU it would otherwise say AVX-512; on a CPU
    // without AVX2 it says less)
    String isa = line(out, "onednn_verbose,info,cpu,isa:(.*)$");
    assertTrue(!isa.contains("512") && !isa.contains("AMX"), isa);
    assertTrue(kernel(out).startsWith("_Mkl"), out);
    assertTrue(worst(out) < AGREE, out);
  }

  @Test
  void anExportedIsaWinsAndOneDnnDispatchesToIt() throws Exception {
    // negative control of the ISA reading: the line follows the variable
    String out = probe(Map.of("ONEDNN_MAX_CPU_ISA", "SSE41"), "'chain 4 convs'");
    assertEquals("Intel SSE4.1", line(out, "onednn_verbose,info,cpu,isa:(.*)$").trim(), out);
    assertTrue(worst(out) < AGREE, out);
  }

  @Test
  void anExportedTfEnableOneDnnOptsZeroRunsTfOwnConvolution() throws Exception {
    // negative control of the kernel reading: oneDNN off, TF's own Conv2D runs
    String out = probe(Map.of("TF_ENABLE_ONEDNN_OPTS", "0"), "'chain 4 convs'");
    assertEquals("Conv2D", kernel(out), out);
    assertTrue(worst(out) < AGREE, out);
  }

  @Test
  void theProbeSeesAWrongConvolution() {
    // negative control of the comparison: a kernel with its spatial axes swapped is a different
    // convolution, and the relative error the probe reports for it is of order 1
    long[][] shapes = {{2, 5, 5, 3}, {3, 3, 3, 4}};
    double[][] in = OneDnnOpProbe.inputs(shapes, 7);
    OneDnnOpProbe.Spec right = new OneDnnOpProbe.Spec("conv", shapes,
        (tf, x) -> OneDnnOpProbe.conv(tf, x.get(0), x.get(1), 1, "SAME"));
    OneDnnOpProbe.Spec swapped = new OneDnnOpProbe.Spec("conv, kernel H and W swapped", shapes,
        (tf, x) -> OneDnnOpProbe.conv(tf, x.get(0), OneDnnOpProbe.transposeHw(tf, x.get(1)), 1,
            "SAME"));
    double[][] a = OneDnnOpProbe.run(right, in, TFloat64.class);
    double[][] b = OneDnnOpProbe.run(swapped, in, TFloat64.class);
    double[][] a32 = OneDnnOpProbe.run(right, in, TFloat32.class);
    assertEquals(3, a.length);
    assertTrue(OneDnnOpProbe.relErr(b[0], a[0]) > 0.1, "forward");
    assertTrue(OneDnnOpProbe.relErr(b[2], a[2]) > 0.1, "kernel gradient");
    assertTrue(OneDnnOpProbe.relErr(a32[0], a[0]) < AGREE, "float32 rounding only");
  }
}
