package dev.dks.trainers.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Parsing and validation of TF_CONFIG and --cluster/--task, all before any server starts. */
class ClusterSpecTest {
  static final String CLUSTER =
      "{\"chief\": [\"h0:2222\"], \"worker\": [\"h1:2222\", \"h2:2223\", \"h2:2224\"]}";

  @TempDir Path dir;

  static String tfConfig(String type, int index) {
    return "{\"cluster\": " + CLUSTER + ", \"task\": {\"type\": \"" + type + "\", \"index\": "
        + index + "}}";
  }

  static ClusterConfigException refused(String json) {
    return assertThrows(ClusterConfigException.class,
        () -> ClusterSpec.fromTfConfig(json, "TF_CONFIG"));
  }

  @Test
  void noClusterMeansSingleProcess() {
    assertTrue(ClusterSpec.resolve(null, null, Map.of()).isEmpty());
    assertTrue(ClusterSpec.resolve(null, null, Map.of("TF_CONFIG", "  ")).isEmpty());
  }

  @Test
  void ranksPutTheChiefFirstThenWorkersByIndex() {
    ClusterSpec chief = ClusterSpec.fromTfConfig(tfConfig("chief", 0), "TF_CONFIG");
    assertEquals(0, chief.rank());
    assertTrue(chief.isChief());
    assertEquals(4, chief.size());
    assertEquals("/job:chief/replica:0/task:0", chief.leaderDevice());
    for (int i = 0; i < 3; i++) {
      ClusterSpec w = ClusterSpec.fromTfConfig(tfConfig("worker", i), "TF_CONFIG");
      assertEquals(i + 1, w.rank());
      assertFalse(w.isChief());
      assertEquals("/job:worker/replica:0/task:" + i, w.localDevice());
    }
    ClusterSpec w2 = ClusterSpec.fromTfConfig(tfConfig("worker", 2), "TF_CONFIG");
    assertEquals("h2:2224", w2.localAddress());
    assertEquals(2224, w2.localPort());
    assertEquals("grpc://localhost:2224", w2.target());
  }

  @Test
  void withoutAChiefWorkerZeroLeads() {
    ClusterSpec w0 = ClusterSpec.fromTfConfig("{\"cluster\": {\"worker\": [\"a:1\", \"b:2\"]}, "
        + "\"task\": {\"type\": \"worker\", \"index\": 0}}", "TF_CONFIG");
    assertTrue(w0.isChief());
    assertEquals(2, w0.size());
    assertEquals("/job:worker/replica:0/task:0", w0.leaderDevice());
  }

  @Test
  void environmentAndFlagsAgree() throws IOException {
    Path f = dir.resolve("cluster.json");
    Files.writeString(f, CLUSTER);
    ClusterSpec fromFlags = ClusterSpec.resolve(f, "worker:1", Map.of()).orElseThrow();
    ClusterSpec fromEnv = ClusterSpec.resolve(null, null,
        Map.of("TF_CONFIG", tfConfig("worker", 1))).orElseThrow();
    assertEquals(fromEnv, fromFlags);
    // a whole TF_CONFIG document as the file: its task is replaced by --task
    Files.writeString(f, tfConfig("chief", 0));
    assertEquals(fromEnv, ClusterSpec.resolve(f, "worker:1", Map.of()).orElseThrow());
    // flags win over the environment
    assertEquals(fromEnv, ClusterSpec.resolve(f, "worker:1",
        Map.of("TF_CONFIG", tfConfig("chief", 0))).orElseThrow());
  }

  @Test
  void malformedJsonIsOneLineWithItsPlace() {
    ClusterConfigException e = refused("{\"cluster\": {\"worker\": [\"a:1\",]}");
    assertTrue(e.getMessage().startsWith("TF_CONFIG: malformed JSON at line 1"), e.getMessage());
    assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    assertTrue(refused("[1, 2]").getMessage().contains("expected a JSON object"));
  }

  @Test
  void unknownTaskTypeAndUnsupportedJobs() {
    ClusterConfigException e = refused(tfConfig("evaluator", 0));
    assertTrue(e.getMessage().contains("unknown task type 'evaluator'"), e.getMessage());
    assertTrue(e.getMessage().contains("[chief, worker]"), e.getMessage());
    e = refused("{\"cluster\": {\"ps\": [\"a:1\"], \"worker\": [\"b:1\"]}, "
        + "\"task\": {\"type\": \"worker\", \"index\": 0}}");
    assertTrue(e.getMessage().contains("job 'ps' is not supported"), e.getMessage());
  }

  @Test
  void indexOutOfRange() {
    ClusterConfigException e = refused(tfConfig("worker", 3));
    assertEquals("TF_CONFIG: task index 3 is out of range: job 'worker' has 3 tasks "
        + "(indices 0..2)", e.getMessage());
    assertTrue(refused(tfConfig("chief", -1)).getMessage().contains("out of range"));
    assertTrue(refused("{\"cluster\": " + CLUSTER + ", \"task\": {\"type\": \"worker\", "
        + "\"index\": 1.5}}").getMessage().contains("must be an integer"));
  }

  @Test
  void duplicateAddressesAndBadAddresses() {
    ClusterConfigException e = refused("{\"cluster\": {\"chief\": [\"h:1\"], \"worker\": "
        + "[\"h:2\", \"H:1\"]}, \"task\": {\"type\": \"worker\", \"index\": 0}}");
    assertTrue(e.getMessage().contains("duplicate address H:1 (tasks chief:0 and worker:1)"),
        e.getMessage());
    for (String bad : List.of("\"h\"", "\"h:0\"", "\"h:70000\"", "\":5\"", "7")) {
      e = refused("{\"cluster\": {\"worker\": [" + bad + "]}, \"task\": {\"type\": \"worker\"}}");
      assertTrue(e.getMessage().contains("is not host:port"), e.getMessage());
    }
    assertTrue(refused("{\"cluster\": {\"chief\": [\"a:1\", \"b:1\"]}, \"task\": {\"type\": "
        + "\"chief\"}}").getMessage().contains("at most one"));
    assertTrue(refused("{\"task\": {\"type\": \"worker\"}}").getMessage().contains(
        "no \"cluster\""));
    assertTrue(refused("{\"cluster\": " + CLUSTER + "}").getMessage().contains("no \"task\""));
  }

  @Test
  void flagsAreCheckedToo() throws IOException {
    Path f = dir.resolve("c.json");
    Files.writeString(f, CLUSTER);
    assertTrue(assertThrows(ClusterConfigException.class,
        () -> ClusterSpec.resolve(f, null, Map.of())).getMessage().contains("needs --task"));
    assertTrue(assertThrows(ClusterConfigException.class,
        () -> ClusterSpec.resolve(null, "worker:0", Map.of())).getMessage()
        .contains("needs --cluster"));
    for (String t : List.of("worker", "worker:", ":1", "worker:x")) {
      assertThrows(ClusterConfigException.class, () -> ClusterSpec.fromFile(f, t), t);
    }
    ClusterConfigException e = assertThrows(ClusterConfigException.class,
        () -> ClusterSpec.fromFile(f, "worker:9"));
    assertTrue(e.getMessage().startsWith("--cluster " + f + " --task worker:9: task index 9"),
        e.getMessage());
    Path missing = dir.resolve("missing.json");
    assertTrue(assertThrows(ClusterConfigException.class,
        () -> ClusterSpec.fromFile(missing, "worker:0")).getMessage().contains("cannot read"));
  }

  @Test
  void portInUseIsRefusedBeforeAServerStarts() throws IOException {
    try (ServerSocket busy = new ServerSocket(0)) {
      int port = busy.getLocalPort();
      ClusterSpec s = ClusterSpec.fromTfConfig("{\"cluster\": {\"worker\": [\"localhost:" + port
          + "\"]}, \"task\": {\"type\": \"worker\", \"index\": 0}}", "TF_CONFIG");
      ClusterConfigException e = assertThrows(ClusterConfigException.class,
          s::checkLocalPortFree);
      assertTrue(e.getMessage().contains("cannot listen on port " + port), e.getMessage());
    }
    // negative control: a free port passes
    int free;
    try (ServerSocket probe = new ServerSocket(0)) {
      free = probe.getLocalPort();
    }
    ClusterSpec.fromTfConfig("{\"cluster\": {\"worker\": [\"localhost:" + free + "\"]}, "
        + "\"task\": {\"type\": \"worker\", \"index\": 0}}", "TF_CONFIG").checkLocalPortFree();
  }

  @Test
  void shardsTileTheGlobalBatch() {
    assertThrows(ClusterConfigException.class, () -> ShardedBatches.checkDivisible(10, 3));
    ShardedBatches.checkDivisible(12, 3);
    // the three shards of a step, in rank order, are the global batch's rows
    var global = ReplicaRun.globalBatches().batchAt(5);
    int pixels = global.h() * global.w() * global.c();
    int per = global.size() / 3;
    for (int r = 0; r < 3; r++) {
      var shard = new ShardedBatches(ReplicaRun.globalBatches(), r, 3).batchAt(5);
      assertEquals(per, shard.size());
      for (int i = 0; i < per; i++) {
        assertEquals(global.labels()[r * per + i], shard.labels()[i]);
        assertEquals(global.images()[(r * per + i) * pixels + 7], shard.images()[i * pixels + 7]);
        assertEquals(global.oneHot()[(r * per + i) * 3 + 2], shard.oneHot()[i * 3 + 2]);
      }
    }
  }
}
