package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;

/**
 * The converted TF.js blazepose-heavy runs with oneDNN on ({@code ./dks}'s environment): {@code
 * dks check-serving} of {@code dks convert}'s output passes in a fresh JVM started from {@code
 * scripts/tf-env.sh}. Negative control: the same folder with the three PadV2 the {@code
 * pad-summand-v2} pass wrote put back as Pad kills that JVM (SIGSEGV in TensorFlow's oneDNN graph
 * rewrite), which is what {@code dks convert} wrote before. Skips without the data cache's model.
 */
class OneDnnPadSummandTest {
  private static final Path ROOT = Path.of("").toAbsolutePath().getParent();

  @TempDir Path tmp;

  /** {@code dks check-serving DIR} in a JVM whose environment is tf-env.sh's; returns the exit. */
  private static int checkServingUnderTfEnv(Path dir, Path log) throws Exception {
    Path tfEnv = ROOT.resolve("scripts/tf-env.sh");
    assertTrue(Files.isRegularFile(tfEnv), tfEnv + " missing");
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    ProcessBuilder pb = new ProcessBuilder("bash", "-c",
        "source \"$1\" && exec \"$2\" -XX:ErrorFile=/dev/null -XX:TieredStopAtLevel=1 -cp \"$3\" "
            + "dev.dks.cli.DksCommand check-serving \"$4\"", "check", tfEnv.toString(),
        java.toString(), System.getProperty("java.class.path"), dir.toString());
    pb.environment().remove("TF_ENABLE_ONEDNN_OPTS"); // oneDNN on, as ./dks runs it
    pb.environment().remove("ONEDNN_MAX_CPU_ISA");
    pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "2");
    Process p = pb.redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!p.waitFor(300, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("check-serving did not finish in 300 s");
    }
    return p.exitValue();
  }

  /** A copy of {@code dir} whose PadV2 with a zero constant are Pad again (the old convert). */
  private static Path withPads(Path dir, Path copy) throws Exception {
    SavedModel sm = SavedModel.parseFrom(Files.readAllBytes(dir.resolve("saved_model.pb")));
    MetaGraphDef meta = sm.getMetaGraphs(0);
    GraphDef.Builder g = meta.getGraphDef().toBuilder().clearNode();
    int undone = 0;
    for (NodeDef n : meta.getGraphDef().getNodeList()) {
      if (n.getOp().equals("PadV2") && n.getInput(2).endsWith("/constant_values")) {
        g.addNode(n.toBuilder().setOp("Pad").clearInput().addInput(n.getInput(0))
            .addInput(n.getInput(1)));
        undone++;
      } else {
        g.addNode(n);
      }
    }
    assertEquals(3, undone);
    Files.createDirectories(copy);
    Files.write(copy.resolve("saved_model.pb"), sm.toBuilder()
        .setMetaGraphs(0, meta.toBuilder().setGraphDef(g)).build().toByteArray());
    Files.createDirectories(copy.resolve("variables")); // a link would be refused as untrusted
    try (java.util.stream.Stream<Path> files = Files.list(dir.resolve("variables"))) {
      for (Path f : files.toList()) {
        Files.copy(f, copy.resolve("variables").resolve(f.getFileName()));
      }
    }
    return copy;
  }

  @Test
  void convertedBlazeposeHeavyServesWithOneDnnOn() throws Exception {
    Path model = Assets.dataCache("human-models-3.0.4/blazepose-heavy.json");
    Path out = tmp.resolve("bh");
    com.fasterxml.jackson.databind.JsonNode report =
        Cli.json("convert", model.toString(), "--out", out.toString());
    assertEquals(3, report.get("pads_as_padv2").asInt(), report.toString());

    Path log = tmp.resolve("check.txt");
    int code = checkServingUnderTfEnv(out, log);
    String text = Files.readString(log, StandardCharsets.UTF_8);
    assertEquals(0, code, text);
    assertTrue(text.strip().endsWith("PASS"), text);

    Path oldLog = tmp.resolve("old.txt");
    int old = checkServingUnderTfEnv(withPads(out, tmp.resolve("old")), oldLog);
    // 134 = 128 + SIGABRT: the JVM aborts after TensorFlow's SIGSEGV (not a verdict, 0 or 1). The
    // crash is oneDNN's (TF 2.18's layout pass), reproduced on the AMD EPYC and Intel Xeon machines
    // here; where the old form serves (exit 0: another TF or CPU), the control has nothing to show
    // and says so, but any other exit is a fault of this test's set-up.
    String oldText = Files.readString(oldLog, StandardCharsets.UTF_8);
    if (old == 0) {
      System.out.println("OneDnnPadSummandTest: the Pad form serves on this machine too: oneDNN's"
          + " crash does not reproduce here, so the control shows nothing");
    } else {
      assertEquals(134, old, oldText);
    }
  }
}
