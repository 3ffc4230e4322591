package dev.dks.trainers.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two worker JVMs on loopback train with TF's collective all-reduce; the chief's per-step losses
 * and every replica's final weights must equal one process training on the same global batches
 * (a second method: no all-reduce, no sharding), within 1e-4 relative. Negative control: the
 * losses of a run whose global batch is only the chief's shard differ by far more.
 */
@Tag("slow")
class DistributedTrainingTest {
  static final int STEPS = 25;

  @TempDir Path dir;

  @Test
  @Timeout(value = 150, unit = TimeUnit.SECONDS)
  void twoWorkersMatchOneProcess() throws Exception {
    int p0 = freePort();
    int p1 = freePort();
    String cluster = "{\"worker\": [\"localhost:" + p0 + "\", \"localhost:" + p1 + "\"]}";
    List<Process> procs = new ArrayList<>();
    try {
      for (int r = 0; r < 2; r++) {
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin",
            "java").toString(), "-cp", System.getProperty("java.class.path"),
            ReplicaRun.class.getName(), String.valueOf(STEPS), dir.resolve("r" + r).toString());
        pb.environment().put("TF_CONFIG", "{\"cluster\": " + cluster
            + ", \"task\": {\"type\": \"worker\", \"index\": " + r + "}}");
        pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "2");
        pb.redirectErrorStream(true).redirectOutput(dir.resolve("log" + r).toFile());
        procs.add(pb.start());
      }
      List<String> reference = ReplicaRun.single(STEPS);
      for (int r = 0; r < 2; r++) {
        boolean ended = procs.get(r).waitFor(120, TimeUnit.SECONDS);
        assertTrue(ended, "replica " + r + " did not finish in 120 s: " + log(r));
        assertEquals(0, procs.get(r).exitValue(), "replica " + r + " failed: " + log(r));
      }
      List<String> chief = Files.readAllLines(dir.resolve("r0"));
      List<String> other = Files.readAllLines(dir.resolve("r1"));
      double[] want = ReplicaRun.losses(reference);
      double[] got = ReplicaRun.losses(chief);
      assertEquals(STEPS, want.length);
      assertRelative(want, got, 1e-4, "chief's losses vs one process");
      assertArrayEquals(ReplicaRun.losses(other), got, 0, "both replicas report the same losses");
      double[] w0 = ReplicaRun.weights(chief);
      assertArrayEquals(w0, ReplicaRun.weights(other), 0, "replicas' weights are bit-equal");
      double[] wRef = ReplicaRun.weights(reference);
      double maxAbs = 0;
      for (double v : wRef) {
        maxAbs = Math.max(maxAbs, Math.abs(v));
      }
      for (int i = 0; i < wRef.length; i++) {
        assertEquals(wRef[i], w0[i], 1e-4 * maxAbs, "weight " + i);
      }
      assertTrue(want[STEPS - 1] < want[0], "the run trains: " + want[0] + " -> "
          + want[STEPS - 1]);
      // negative control: training on the chief's shard alone is visibly another run
      double[] shardOnly;
      try (var tg = dev.dks.trainers.graph.TrainingGraph.build(ReplicaRun.model(),
          ReplicaRun.spec())) {
        shardOnly = ReplicaRun.losses(ReplicaRun.train(tg,
            new ShardedBatches(ReplicaRun.globalBatches(), 0, 2), STEPS));
      }
      double worst = 0;
      for (int i = 0; i < STEPS; i++) {
        worst = Math.max(worst, Math.abs(shardOnly[i] - want[i]) / Math.abs(want[i]));
      }
      assertTrue(worst > 1e-2, "the shard-only run should differ, max relative " + worst);
    } finally {
      procs.forEach(Process::destroyForcibly);
    }
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
