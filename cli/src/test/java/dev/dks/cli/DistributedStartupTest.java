package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.savedmodels.export.ServingExporter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code dks train} task whose peer never shows up (nothing listens on the other address of its
 * two-task {@code TF_CONFIG}) must stop by itself after {@code --startup-timeout}: exit 2 with one
 * {@code dks: error:} line that names the timeout, no hang, and no checkpoint or export written.
 * Runs in its own JVM (a TF server cannot be stopped, so it must not start in the test's JVM); the
 * 5 s timeout keeps it short, the 90 s bound is the issue's.
 */
class DistributedStartupTest {
  @TempDir Path tmp;

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void aPeerThatNeverStartsStopsTheTaskWithOneLine() throws Exception {
    Path model = tmp.resolve("mlp");
    ServingExporter.export(ModelBuilder.build(ArchitectureSpec.builder(Architecture.MLP, 2)
        .width(8).input("8x8x1").classes(10).seed(3).build()).model(), model);
    int p0 = freePort();
    int p1 = freePort(); // nobody will listen here
    Path out = tmp.resolve("run");
    // C1 only and the serial GC: about a quarter less CPU for a short run (measured 6.0 vs 8.2 s
    // for a 30-step dks train)
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin",
        "java").toString(), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp",
        System.getProperty("java.class.path"), DksCommand.class.getName(), "train",
        model.toString(), "--data", "synthetic:8x8x1:10:64", "--optimizer", "nesterov", "--lr",
        "0.01", "--batch", "8", "--steps", "5", "--threads", "1", "--startup-timeout", "5",
        "--collective-timeout", "5", "--out", out.toString());
    pb.environment().put("TF_CONFIG", "{\"cluster\": {\"worker\": [\"localhost:" + p0
        + "\", \"localhost:" + p1 + "\"]}, \"task\": {\"type\": \"worker\", \"index\": 0}}");
    pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "2");
    Path err = tmp.resolve("err");
    pb.redirectOutput(tmp.resolve("out").toFile()).redirectError(err.toFile());
    Process p = pb.start();
    try {
      long t0 = System.nanoTime();
      assertTrue(p.waitFor(90, TimeUnit.SECONDS), "the lone task hung: " + Files.readString(err));
      double seconds = (System.nanoTime() - t0) * 1e-9;
      String log = Files.readString(err);
      assertEquals(2, p.exitValue(), log);
      List<String> errors = log.lines().filter(l -> l.startsWith("dks: error:")).toList();
      assertEquals(1, errors.size(), log);
      assertTrue(errors.get(0).contains("not every task of the cluster")
          && errors.get(0).contains("started within 5 s (--startup-timeout)"), log);
      assertTrue(log.contains("serving on localhost:" + p0), "the task's server started: " + log);
      assertFalse(Files.exists(out.resolve("checkpoint.ckpt")), "no checkpoint");
      assertFalse(Files.exists(out.resolve("serving")), "no export");
      System.out.printf("a peer that never starts: the task stopped after %.1f s (exit 2)%n",
          seconds);
    } finally {
      p.destroyForcibly();
    }
  }

  private static int freePort() throws java.io.IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
