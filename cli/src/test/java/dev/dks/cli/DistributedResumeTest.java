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
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;

/**
 * A worker of a three-task {@code dks train} cluster training with K-FAC is killed mid-run: the
 * two other tasks (the chief and a worker) must exit non-zero within 90 s, saying why, with the
 * chief's last checkpoint intact; all three rerun with {@code --resume} on a fresh cluster (new
 * ports) finish the run; only the chief writes the metrics. The chief's per-step losses
 * (metrics.jsonl, last line per step) and its serving export must then equal an uninterrupted
 * one-process run with the same global batch (a second method: no cluster, no interruption)
 * within K-FAC's 1e-3 relative: the losses step by step, the exports' logits on the same inputs
 * relative to the largest. K-FAC because its resumed
 * state is the largest (factors, cached inverses, adaptive damping, momentum), all taken from the
 * chief's checkpoint and copied to every replica; it resumes at step 10, between inverse
 * refreshes (every 4), so the cached inverses matter. Every optimizer setting is a flag here, so
 * changes to the defaults do not change the run. Negative controls: the same losses one step
 * apart (a resume off by one step), and the untrained model's logits, differ by far more. On
 * loopback the tasks share the output folder, as a shared file system would on several machines
 * (docs/distributed.md).
 */
@Tag("slow")
class DistributedResumeTest {
  private static final int STEPS = 30;
  private static final int TASKS = 3;
  private static final double TOL = 1e-3;
  private static final int SERVE_BATCH = 16;

  @TempDir Path tmp;

  @Test
  @Timeout(value = 420, unit = TimeUnit.SECONDS)
  void aKilledWorkerStopsTheOthersAndKfacResumeFinishesTheRun() throws Exception {
    Path model = tmp.resolve("mlp");
    ServingExporter.export(ModelBuilder.build(ArchitectureSpec.builder(Architecture.MLP, 2)
        .width(16).input("8x8x1").classes(10).seed(3).build()).model(), model);
    Path out = tmp.resolve("run");
    List<String> common = List.of("train", model.toString(), "--data", "synthetic:8x8x1:10:256",
        "--optimizer", "kfac", "--kfac-recipe", "default", "--lr", "0.01", "--schedule",
        "constant", "--warmup-steps", "0", "--momentum", "0.9", "--damping", "0.01",
        "--adaptive-damping", "--inverse-every", "4", "--curvature-every", "1",
        "--curvature-ema", "0.99", "--norm-constraint", "0.001", "--burn-in", "3",
        "--estimation", "sampled", "--inverse", "cholesky", "--stats-examples", "0",
        "--batch", "24", "--seed", "3", "--steps", String.valueOf(STEPS),
        "--checkpoint-every", "10", "--eval-every", "100000", "--threads", "1");

    // 1. three tasks; kill the last worker once the chief has written a checkpoint
    List<Process> first = start(common, out, false, "first");
    try {
      Path ckpt = out.resolve("checkpoint.ckpt");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
      while (!Files.exists(ckpt) && first.get(0).isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertTrue(Files.exists(ckpt), "no checkpoint within 180 s: " + log("first0"));
      for (int r = 0; r < TASKS - 1; r++) {
        assertTrue(first.get(r).isAlive(), "task " + r + " ended before the kill: "
            + log("first" + r));
      }
      first.get(TASKS - 1).destroyForcibly();
      long killed = System.nanoTime();
      StringBuilder stopped = new StringBuilder();
      for (int r = 0; r < TASKS - 1; r++) {
        Process p = first.get(r);
        assertTrue(p.waitFor(90 - (System.nanoTime() - killed) / 1_000_000_000L,
            TimeUnit.SECONDS), "task " + r + " did not stop within 90 s of the kill: "
            + log("first" + r));
        double seconds = (System.nanoTime() - killed) * 1e-9;
        String err = log("first" + r);
        assertNotEquals(0, p.exitValue(), err);
        assertTrue(err.contains("dks: error: distributed training stopped: a task of the "
            + "cluster failed"), err);
        stopped.append(String.format(java.util.Locale.ROOT, " task %d after %.1f s (exit %d);",
            r, seconds, p.exitValue()));
      }
      System.out.println("killed worker " + (TASKS - 1) + ": stopped" + stopped);
    } finally {
      first.forEach(Process::destroyForcibly);
    }

    // 2. a fresh cluster resumes from the chief's checkpoint and finishes
    List<Process> second = start(common, out, true, "second");
    try {
      for (int r = 0; r < TASKS; r++) {
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
    // only the chief writes metrics.jsonl (the tasks share --out here): each step before the
    // checkpoint has one line, from the first run (a resumed run appends the later steps)
    Map<Long, Long> perStep = new TreeMap<>();
    ObjectMapper om = new ObjectMapper();
    for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
      JsonNode n = om.readTree(line);
      if (n.get("type").asText().equals("step")) {
        perStep.merge(n.get("step").asLong(), 1L, Long::sum);
      }
    }
    for (long s = 0; s < start; s++) {
      assertEquals(1L, perStep.get(s), "metrics.jsonl lines of step " + s);
    }

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

    // 4. the serving exports, run by TF on the same inputs
    float[] served = serve(out.resolve("serving"));
    float[] servedRef = serve(ref.resolve("serving"));
    float[] untrained = serve(model);
    double scale = 0;
    for (float v : servedRef) {
      scale = Math.max(scale, Math.abs(v));
    }
    double serving = maxAbsDiff(served, servedRef) / scale;
    double control = maxAbsDiff(untrained, servedRef) / scale;
    assertTrue(serving <= TOL, "the chief's serving export vs one process's: logits differ by "
        + serving + " of the largest");
    assertTrue(control > 10 * TOL, "the untrained model's logits should differ: " + control);
    System.out.printf("K-FAC, %d tasks, resumed at step %d: losses vs one process max relative "
        + "%.2e (one step apart: %.2e); serving logits %.2e of the largest (untrained %.2e)%n",
        TASKS, start, worst, shifted, serving, control);
  }

  /** The logits of the serving SavedModel at {@code dir} on fixed inputs. */
  private static float[] serve(Path dir) {
    float[] x = new float[SERVE_BATCH * 8 * 8];
    java.util.Random random = new java.util.Random(11);
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) random.nextGaussian();
    }
    try (SavedModelBundle b = SavedModelBundle.load(dir.toString(), "serve");
        TFloat32 in = TFloat32.tensorOf(Shape.of(SERVE_BATCH, 8, 8, 1),
            DataBuffers.of(x, true, false));
        Result r = b.function("serving_default").call(Map.of("input", in))) {
      TFloat32 y = (TFloat32) r.get("logits").orElseThrow();
      assertEquals(SERVE_BATCH * 10, y.shape().size());
      float[] out = new float[(int) y.shape().size()];
      y.copyTo(DataBuffers.of(out, false, false));
      return out;
    }
  }

  private static double maxAbsDiff(float[] a, float[] b) {
    assertEquals(a.length, b.length);
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs((double) a[i] - b[i]));
    }
    return m;
  }

  /** Starts the tasks ({@code tag0}, {@code tag1}, ...: stdout and stderr files) on new ports. */
  private List<Process> start(List<String> common, Path out, boolean resume, String tag)
      throws IOException {
    Path cluster = tmp.resolve(tag + ".json");
    StringBuilder workers = new StringBuilder();
    for (int r = 0; r < TASKS; r++) {
      workers.append(r == 0 ? "" : ", ").append("\"localhost:").append(freePort()).append('"');
    }
    Files.writeString(cluster, "{\"worker\": [" + workers + "]}");
    List<Process> procs = new ArrayList<>();
    for (int r = 0; r < TASKS; r++) {
      // C1 only and the serial GC: about a quarter less CPU for these short runs
      List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin",
          "java").toString(), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp",
          System.getProperty("java.class.path"), DksCommand.class.getName()));
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
