package dev.dks.trainers.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
      double lossDiff = 0;
      double weightDiff = 0;
      for (int i = 0; i < STEPS; i++) {
        lossDiff = Math.max(lossDiff, Math.abs(got[i] - want[i]) / Math.abs(want[i]));
      }
      for (int i = 0; i < wRef.length; i++) {
        weightDiff = Math.max(weightDiff, Math.abs(w0[i] - wRef[i]) / maxAbs);
      }
      System.out.printf("2 workers vs 1 process, %d steps: losses max relative %.2e, weights max "
          + "%.2e of max |w|; chief's shard alone: %.2e%n", STEPS, lossDiff, weightDiff, worst);
    } finally {
      procs.forEach(Process::destroyForcibly);
    }
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void aWorkerThatNeverStartsStopsTheOtherWithinItsTimeout() throws Exception {
    int p0 = freePort();
    int p1 = freePort(); // nobody will listen here
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin",
        "java").toString(), "-cp", System.getProperty("java.class.path"),
        ReplicaRun.class.getName(), "5", dir.resolve("lone").toString(), "5");
    pb.environment().put("TF_CONFIG", "{\"cluster\": {\"worker\": [\"localhost:" + p0
        + "\", \"localhost:" + p1 + "\"]}, \"task\": {\"type\": \"worker\", \"index\": 0}}");
    pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "2");
    pb.redirectErrorStream(true).redirectOutput(dir.resolve("lone.log").toFile());
    Process p = pb.start();
    try {
      assertTrue(p.waitFor(90, TimeUnit.SECONDS), "the lone worker hung: " + Files.readString(
          dir.resolve("lone.log")));
      String log = Files.readString(dir.resolve("lone.log"));
      assertEquals(1, p.exitValue(), log);
      assertTrue(log.contains("replica failed") && log.contains("timed out"), log);
      assertFalse(Files.exists(dir.resolve("lone")), "no results from a failed run");
    } finally {
      p.destroyForcibly();
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
