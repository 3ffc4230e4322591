package dev.dks.trainers.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.savedmodels.export.ServingExporter;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
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
 * Worker JVMs on loopback train with TF's collective all-reduce, {@value #STEPS} steps each; the
 * chief's per-step losses, its serving export and every replica's final weights must equal one
 * process training on the same global batches (a second method: no all-reduce, no sharding):
 * two and three workers, each with Nesterov SGD (1e-4 relative) and then, in the same processes,
 * with K-FAC (1e-3; statistics averaged with the gradients; with two workers also K-FAC whose
 * statistics use the first half of the global batch, read by the sub-batch forward copy: all rows
 * of the chief's shard, none of the other's). The serving exports (the chief's and
 * the one-process run's, both written by {@link dev.dks.savedmodels.export.ServingExporter}) are
 * loaded with TF and run on the same inputs; their logits must agree within the tolerance times
 * the largest logit. Negative controls: a run whose global batch is only the chief's shard (per
 * cluster size and optimizer), a one-process K-FAC run whose statistics use only the chief's
 * shard while its gradients use the whole batch (what a cluster that did not average the
 * statistics would compute), and the untrained model's serving export differ by far more than the
 * tolerances. The one-process reference runs are shared by the tests of the class and run while
 * the worker JVMs train.
 */
@Tag("slow")
class DistributedTrainingTest {
  static final int STEPS = 30;
  /** Inputs fed to the serving exports. */
  private static final int SERVE_BATCH = 16;
  /** One-process reference runs, shared by the tests (mode to lines). */
  private static final Map<String, List<String>> REFERENCE = new ConcurrentHashMap<>();
  /** The reference runs' serving exports and the untrained model's. */
  @TempDir static Path shared;

  @TempDir Path dir;

  private static List<String> reference(String mode) {
    return REFERENCE.computeIfAbsent(mode, m -> ReplicaRun.single(STEPS, m,
        shared.resolve("reference." + m)));
  }

  @Test
  @Timeout(value = 420, unit = TimeUnit.SECONDS)
  void twoWorkersMatchOneProcessWithNesterovAndKfac() throws Exception {
    // kfac-12: statistics from the first 12 of 24 examples through the sub-batch forward copy,
    // which reads all 12 rows of the chief's shard and none of the other replica's
    Map<String, List<List<String>>> runs = cluster(2, "nesterov,kfac,kfac-12", () -> {
      reference("nesterov");
      reference("kfac");
      reference("kfac-12");
    });
    String sgd = compare("nesterov", runs.get("nesterov"), 1e-4);
    String kfac = compare("kfac", runs.get("kfac"), 1e-3);
    String sub = compare("kfac-12", runs.get("kfac-12"), 1e-3);
    // negative control: K-FAC statistics of the chief's shard alone (its first 12 of 24
    // examples, with the same sampled targets), gradients of the global batch
    double unaveraged = worstRelative(ReplicaRun.losses(ReplicaRun.single(STEPS,
        "kfac-" + ReplicaRun.BATCH / 2)), ReplicaRun.losses(reference("kfac")));
    assertTrue(unaveraged > 1e-2, "K-FAC with the chief's statistics alone should differ, max "
        + "relative " + unaveraged);
    System.out.printf("2 workers vs 1 process, %d steps: Nesterov %s; K-FAC %s (statistics not "
        + "averaged: losses %.2e); K-FAC, statistics of the first 12 examples %s%n", STEPS, sgd,
        kfac, unaveraged, sub);
  }

  @Test
  @Timeout(value = 420, unit = TimeUnit.SECONDS)
  void threeWorkersMatchOneProcessWithNesterovAndKfac() throws Exception {
    Map<String, List<List<String>>> runs = cluster(3, "nesterov,kfac", () -> {
      reference("nesterov");
      reference("kfac");
    });
    String sgd = compare("nesterov", runs.get("nesterov"), 1e-4);
    String kfac = compare("kfac", runs.get("kfac"), 1e-3);
    System.out.printf("3 workers vs 1 process, %d steps: Nesterov %s; K-FAC %s%n", STEPS, sgd,
        kfac);
  }

  /**
   * Starts {@code n} worker JVMs running {@code modes}, runs {@code meanwhile} in this JVM, waits
   * for them; returns per mode the replicas' output lines (replica r at index r).
   */
  private Map<String, List<List<String>>> cluster(int n, String modes, Runnable meanwhile) throws Exception {
    StringBuilder addresses = new StringBuilder();
    for (int r = 0; r < n; r++) {
      addresses.append(r == 0 ? "" : ", ").append("\"localhost:").append(freePort()).append('"');
    }
    String cluster = "{\"worker\": [" + addresses + "]}";
    List<Process> procs = new ArrayList<>();
    try {
      for (int r = 0; r < n; r++) {
        // C1 only and the serial GC: about a quarter less CPU for these short runs
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin",
            "java").toString(), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp",
            System.getProperty("java.class.path"),
            ReplicaRun.class.getName(), modes, String.valueOf(STEPS),
            dir.resolve("r" + r).toString(), "120");
        pb.environment().put("TF_CONFIG", "{\"cluster\": " + cluster
            + ", \"task\": {\"type\": \"worker\", \"index\": " + r + "}}");
        pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "2");
        pb.redirectErrorStream(true).redirectOutput(dir.resolve("log" + r).toFile());
        procs.add(pb.start());
      }
      meanwhile.run();
      for (int r = 0; r < n; r++) {
        boolean ended = procs.get(r).waitFor(240, TimeUnit.SECONDS);
        assertTrue(ended, "replica " + r + " did not finish in 240 s: " + log(r));
        assertEquals(0, procs.get(r).exitValue(), "replica " + r + " failed: " + log(r));
      }
    } finally {
      procs.forEach(Process::destroyForcibly);
    }
    Map<String, List<List<String>>> out = new java.util.LinkedHashMap<>();
    for (String mode : modes.split(",")) {
      List<List<String>> replicas = new ArrayList<>();
      for (int r = 0; r < n; r++) {
        replicas.add(Files.readAllLines(dir.resolve("r" + r + "." + mode)));
      }
      out.put(mode, replicas);
    }
    return out;
  }

  /**
   * Asserts the chief's losses, serving export and weights of {@code mode} against the
   * one-process run within {@code tol} relative, and every replica's losses and weights equal to
   * the chief's bit for bit; returns the largest relative differences, as text.
   */
  private String compare(String mode, List<List<String>> runs, double tol) {
    int n = runs.size();
    List<String> chief = runs.get(0);
    List<String> reference = reference(mode);
    double[] want = ReplicaRun.losses(reference);
    double[] got = ReplicaRun.losses(chief);
    assertEquals(STEPS, want.length);
    assertRelative(want, got, tol, mode + ": chief's losses vs one process");
    double[] w0 = ReplicaRun.weights(chief);
    for (int r = 1; r < n; r++) {
      List<String> other = runs.get(r);
      assertArrayEquals(got, ReplicaRun.losses(other), 0, mode + ": replica " + r
          + " reports the chief's losses");
      assertArrayEquals(w0, ReplicaRun.weights(other), 0, mode + ": replica " + r
          + "'s weights are bit-equal to the chief's");
      assertFalse(Files.exists(dir.resolve("r" + r + "." + mode + ".serving")), "only the chief "
          + "exports");
    }
    double[] wRef = ReplicaRun.weights(reference);
    double maxAbs = maxAbs(wRef);
    for (int i = 0; i < wRef.length; i++) {
      assertEquals(wRef[i], w0[i], tol * maxAbs, mode + ": weight " + i);
    }
    // the serving exports, run by TF on the same inputs
    float[] served = serve(dir.resolve("r0." + mode + ".serving"));
    float[] servedRef = serve(shared.resolve("reference." + mode));
    double scale = maxAbs(toDoubles(servedRef));
    double servingDiff = maxAbsDiff(served, servedRef) / scale;
    assertTrue(servingDiff <= tol, mode + ": the chief's serving export vs one process's: logits "
        + "differ by " + servingDiff + " of the largest");
    double untrained = maxAbsDiff(untrainedLogits(), servedRef) / scale;
    assertTrue(untrained > 10 * tol, mode + ": the untrained model's logits should differ: "
        + untrained);
    // the synthetic task's batch losses are noisy (K-FAC's steps are norm-limited): the mean of
    // the last 10 steps against the first
    double late = java.util.Arrays.stream(want, STEPS - 10, STEPS).average().orElseThrow();
    assertTrue(late < want[0], mode + " trains: " + want[0] + " -> mean of the last 10 " + late);
    // negative control: training on the chief's shard alone is visibly another run
    double[] shardOnly;
    try (var tg = dev.dks.trainers.graph.TrainingGraph.build(ReplicaRun.model(),
        ReplicaRun.spec(mode))) {
      shardOnly = ReplicaRun.losses(ReplicaRun.train(tg,
          new ShardedBatches(ReplicaRun.globalBatches(), 0, n), STEPS, mode));
    }
    double control = worstRelative(shardOnly, want);
    assertTrue(control > 10 * tol, mode + ": the chief's-shard-only run should differ, max "
        + "relative " + control);
    return String.format(java.util.Locale.ROOT, "losses max relative %.2e (shard only %.2e), "
        + "serving logits %.2e of the largest (untrained %.2e)", worstRelative(got, want),
        control, servingDiff, untrained);
  }

  /** The logits of the serving SavedModel at {@code savedModel} on the fixed inputs. */
  private static float[] serve(Path savedModel) {
    float[] x = new float[SERVE_BATCH * 8 * 8];
    java.util.Random random = new java.util.Random(11);
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) random.nextGaussian();
    }
    try (SavedModelBundle b = SavedModelBundle.load(savedModel.toString(), "serve");
        TFloat32 in = TFloat32.tensorOf(Shape.of(SERVE_BATCH, 8, 8, 1),
            DataBuffers.of(x, true, false));
        Result r = b.function("serving_default").call(Map.of("input", in))) {
      TFloat32 y = (TFloat32) r.get("logits").orElseThrow();
      assertEquals(SERVE_BATCH * 3, y.shape().size());
      float[] out = new float[(int) y.shape().size()];
      y.copyTo(DataBuffers.of(out, false, false));
      return out;
    }
  }

  private static float[] untrainedCache;

  /** The untrained model's serving logits (exported once per class). */
  private static synchronized float[] untrainedLogits() {
    if (untrainedCache == null) {
      Path p = shared.resolve("untrained");
      ServingExporter.export(ReplicaRun.model(), p);
      untrainedCache = serve(p);
    }
    return untrainedCache;
  }

  private static double maxAbs(double[] v) {
    double m = 0;
    for (double d : v) {
      m = Math.max(m, Math.abs(d));
    }
    return m;
  }

  private static double[] toDoubles(float[] v) {
    double[] d = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      d[i] = v[i];
    }
    return d;
  }

  private static double maxAbsDiff(float[] a, float[] b) {
    assertEquals(a.length, b.length);
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs((double) a[i] - b[i]));
    }
    return m;
  }

  private static double worstRelative(double[] got, double[] want) {
    double worst = 0;
    for (int i = 0; i < want.length; i++) {
      worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.abs(want[i]));
    }
    return worst;
  }

  private static void assertRelative(double[] want, double[] got, double tol, String what) {
    assertEquals(want.length, got.length, what);
    for (int i = 0; i < want.length; i++) {
      assertEquals(want[i], got[i], tol * Math.abs(want[i]), what + " at step " + i);
    }
  }

  private String log(int r) {
    try {
      return Files.readString(dir.resolve("log" + r));
    } catch (IOException e) {
      return "(no log)";
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
