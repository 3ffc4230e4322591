package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.savedmodels.export.ServingExporter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker of a two-task {@code dks train} cluster is killed mid-run: the chief must exit
 * non-zero within 90 s, saying why, with its last checkpoint intact; both tasks rerun with
 * {@code --resume} on a fresh cluster (new ports) finish the run. The chief's per-step losses
 * (metrics.jsonl, last line per step) must then equal an uninterrupted one-process run with the
 * same global batch (a second method: no cluster, no interruption) within 1e-4 relative.
 * Negative control: the same losses one step apart (a resume off by one step) differ by far more.
 * On loopback both tasks share the output folder, as a shared file system would on several
 * machines (docs/distributed.md).
 */
@Tag("slow")
class DistributedResumeTest {
  private static final int STEPS = 60;
  private static final double TOL = 1e-4;

  @TempDir Path tmp;

  @Test
  @Timeout(value = 420, unit = TimeUnit.SECONDS)
  void aKilledWorkerStopsTheChiefAndResumeFinishesTheRun() throws Exception {
    Path model = tmp.resolve("mlp");
    ServingExporter.export(ModelBuilder.build(ArchitectureSpec.builder(Architecture.MLP, 2)
        .width(16).input("8x8x1").classes(10).seed(3).build()).model(), model);
    Path out = tmp.resolve("run");
    List<String> common = List.of("train", model.toString(), "--data", "synthetic:8x8x1:10:256",
        "--optimizer", "nesterov", "--lr", "0.02", "--schedule", "constant", "--warmup-steps",
        "0", "--batch", "16", "--seed", "3", "--steps", String.valueOf(STEPS),
        "--checkpoint-every", "10", "--eval-every", "100000", "--threads", "1");

    // 1. two tasks; kill the worker once the chief has written a checkpoint
    List<Process> first = start(common, out, false, "first");
    Process chief = first.get(0);
    try {
      Path ckpt = out.resolve("checkpoint.ckpt");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
      while (!Files.exists(ckpt) && chief.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertTrue(Files.exists(ckpt), "no checkpoint within 180 s: " + log("first0"));
      assertTrue(chief.isAlive(), "the run ended before the kill: " + log("first0"));
      first.get(1).destroyForcibly();
      long killed = System.nanoTime();
      assertTrue(chief.waitFor(90, TimeUnit.SECONDS), "the chief did not stop within 90 s "
          + "of the kill: " + log("first0"));
      double seconds = (System.nanoTime() - killed) * 1e-9;
      String err = log("first0");
      assertNotEquals(0, chief.exitValue(), err);
      assertTrue(err.contains("dks: error: distributed training stopped: a task of the cluster "
          + "failed"), err);
      System.out.printf("killed worker: the chief stopped %.1f s later (exit %d)%n", seconds,
          chief.exitValue());
    } finally {
      first.forEach(Process::destroyForcibly);
    }

    // 2. a fresh cluster resumes from the chief's checkpoint and finishes
    List<Process> second = start(common, out, true, "second");
    try {
      for (int r = 0; r < 2; r++) {
        assertTrue(second.get(r).waitFor(240, TimeUnit.SECONDS), "resumed task " + r
            + " did not finish: " + log("second" + r));
        assertEquals(0, second.get(r).exitValue(), log("second" + r));
      }
    } finally {
      second.forEach(Process::destroyForcibly);
    }
    JsonNode summary = new ObjectMapper().readTree(Files.readString(tmp.resolve("second0.out")));
    long start = summary.get("start_step").asLong();
    assertTrue(start > 0 && start % 10 == 0 && start < STEPS, "resumed from " + start);
    assertEquals(STEPS, summary.get("steps").asLong());
    assertTrue(Files.isRegularFile(out.resolve("serving/saved_model.pb")));

    // 3. the one-process reference
    Path ref = tmp.resolve("reference");
    List<String> args = new ArrayList<>(common);
    args.addAll(List.of("--out", ref.toString()));
    Cli r = Cli.run(args.toArray(String[]::new));
    assertEquals(0, r.code(), r.err());
    double[] want = losses(ref.resolve("metrics.jsonl"));
    double[] got = losses(out.resolve("metrics.jsonl"));
    assertEquals(STEPS, want.length);
    assertEquals(STEPS, got.length);
    double worst = 0;
    double shifted = 0;
    for (int s = 0; s < STEPS; s++) {
      assertEquals(want[s], got[s], TOL * Math.abs(want[s]), "loss at step " + s);
      worst = Math.max(worst, Math.abs(got[s] - want[s]) / Math.abs(want[s]));
      if (s + 1 < STEPS) {
        shifted = Math.max(shifted, Math.abs(got[s] - want[s + 1]) / Math.abs(want[s + 1]));
      }
    }
    assertTrue(shifted > 10 * TOL, "losses one step apart should differ: " + shifted);
    System.out.printf("resumed at step %d: losses vs one process max relative %.2e (one step "
        + "apart: %.2e)%n", start, worst, shifted);
  }

  /** Starts the two tasks ({@code tag0}, {@code tag1}: stdout and stderr files) on new ports. */
  private List<Process> start(List<String> common, Path out, boolean resume, String tag)
      throws IOException {
    Path cluster = tmp.resolve(tag + ".json");
    Files.writeString(cluster, "{\"worker\": [\"localhost:" + freePort() + "\", \"localhost:"
        + freePort() + "\"]}");
    List<Process> procs = new ArrayList<>();
    for (int r = 0; r < 2; r++) {
      List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin",
          "java").toString(), "-cp", System.getProperty("java.class.path"),
          DksCommand.class.getName()));
      cmd.addAll(common);
      cmd.addAll(List.of("--out", out.toString(), "--cluster", cluster.toString(), "--task",
          "worker:" + r, "--collective-timeout", "30", "--json"));
      if (resume) {
        cmd.add("--resume");
      }
      ProcessBuilder pb = new ProcessBuilder(cmd);
      pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "2");
      pb.redirectOutput(tmp.resolve(tag + r + ".out").toFile())
          .redirectError(tmp.resolve(tag + r + ".err").toFile());
      procs.add(pb.start());
    }
    return procs;
  }

  private String log(String name) {
    try {
      return Files.readString(tmp.resolve(name + ".err"));
    } catch (IOException e) {
      return "(no log)";
    }
  }

  /** The step losses of a metrics file, the last line per step (a resumed run appends). */
  private static double[] losses(Path metrics) throws IOException {
    ObjectMapper om = new ObjectMapper();
    TreeMap<Long, Double> byStep = new TreeMap<>();
    for (String line : Files.readAllLines(metrics)) {
      JsonNode n;
      try {
        n = om.readTree(line);
      } catch (IOException e) {
        throw new UncheckedIOException(line, e);
      }
      if (n.get("type").asText().equals("step")) {
        byStep.put(n.get("step").asLong(), n.get("loss").asDouble());
      }
    }
    return byStep.values().stream().mapToDouble(Double::doubleValue).toArray();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
