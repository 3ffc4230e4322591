package dev.dks.trainers.distributed;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A training cluster and the task this process is, in TensorFlow's {@code TF_CONFIG} convention
 * (as tf.distribute's MultiWorkerMirroredStrategy reads it):
 *
 * <pre>{@code
 * {"cluster": {"chief": ["host0:2222"], "worker": ["host1:2222", "host2:2222"]},
 *  "task": {"type": "worker", "index": 0}}
 * }</pre>
 *
 * <p>Jobs: {@code chief} (at most one task, optional) and {@code worker}; both compute (every task
 * is a replica). Other job types ({@code ps}, {@code evaluator}) are refused: synchronous
 * all-reduce training has no use for them. The <b>rank</b> of a task orders the replicas: the
 * chief is rank 0 when there is one, then the workers by index; the rank chooses a task's shard of
 * each global batch. The <b>chief duties</b> (metrics, checkpoints, exports) belong to
 * {@code chief:0}, else {@code worker:0}: that is, to rank 0.
 *
 * <p>Every parse or validation error is a {@link ClusterConfigException} with one line naming the
 * source; nothing here opens a port except {@link #checkLocalPortFree()}, which only binds and
 * releases the local task's port to see that a server could listen on it.
 *
 * @param jobs job name to its task addresses ({@code host:port}), index = position
 * @param taskType the job of this process
 * @param taskIndex its index in that job
 */
public record ClusterSpec(Map<String, List<String>> jobs, String taskType, int taskIndex) {

  /** The environment variable read by {@link #fromEnvironment}. */
  public static final String TF_CONFIG = "TF_CONFIG";

  private static final List<String> JOBS = List.of("chief", "worker");

  /** Copies and validates (see the class comment). */
  public ClusterSpec {
    Map<String, List<String>> copy = new LinkedHashMap<>();
    for (String j : JOBS) {
      if (jobs.containsKey(j)) {
        copy.put(j, List.copyOf(jobs.get(j)));
      }
    }
    jobs = java.util.Collections.unmodifiableMap(copy);
  }

  /**
   * The cluster of this process: from {@code --cluster FILE} and {@code --task TYPE:INDEX} when
   * given (they win over the environment), else from {@code TF_CONFIG} in {@code env}, else
   * empty (a single-process run: nothing changes).
   *
   * @param clusterFile the {@code --cluster} file, or null
   * @param task the {@code --task} value, or null
   * @param env the environment ({@code System.getenv()})
   */
  public static Optional<ClusterSpec> resolve(Path clusterFile, String task,
      Map<String, String> env) {
    if (clusterFile == null && task != null) {
      throw new ClusterConfigException("--task " + task + " needs --cluster FILE");
    }
    if (clusterFile != null) {
      if (task == null) {
        throw new ClusterConfigException("--cluster " + clusterFile + " needs --task TYPE:INDEX "
            + "(e.g. --task worker:0)");
      }
      return Optional.of(fromFile(clusterFile, task));
    }
    return fromEnvironment(env);
  }

  /** The cluster in {@code env}'s {@code TF_CONFIG}, or empty when it is unset or blank. */
  public static Optional<ClusterSpec> fromEnvironment(Map<String, String> env) {
    String json = env.get(TF_CONFIG);
    if (json == null || json.isBlank()) {
      return Optional.empty();
    }
    return Optional.of(fromTfConfig(json, TF_CONFIG));
  }

  /**
   * Parses a {@code TF_CONFIG} document ({@code cluster} and {@code task}).
   *
   * @param source how to name the document in errors
   */
  public static ClusterSpec fromTfConfig(String json, String source) {
    JsonNode root = parse(json, source);
    Map<String, List<String>> jobs = cluster(root.get("cluster"), source);
    JsonNode task = root.get("task");
    if (task == null || !task.isObject()) {
      throw new ClusterConfigException(source + ": no \"task\": {\"type\": ..., \"index\": ...} "
          + "(which task this process is)");
    }
    JsonNode type = task.get("type");
    JsonNode index = task.get("index");
    if (type == null || !type.isTextual()) {
      throw new ClusterConfigException(source + ": \"task\" needs a string \"type\" (chief or "
          + "worker)");
    }
    int i = 0;
    if (index != null) {
      if (!index.canConvertToInt() || !index.isIntegralNumber()) {
        throw new ClusterConfigException(source + ": task \"index\" must be an integer, got "
            + index);
      }
      i = index.intValue();
    }
    return validated(jobs, type.asText(), i, source);
  }

  /**
   * Reads a cluster file: either a whole {@code TF_CONFIG} document (its {@code task} is ignored)
   * or just the cluster object ({@code {"worker": [...], "chief": [...]}}); the task comes from
   * {@code task} ({@code TYPE:INDEX}, e.g. {@code worker:1}).
   */
  public static ClusterSpec fromFile(Path file, String task) {
    String source = "--cluster " + file;
    String json;
    try {
      json = Files.readString(file);
    } catch (IOException e) {
      throw new ClusterConfigException(source + ": cannot read it (" + e.getMessage() + ")", e);
    }
    JsonNode root = parse(json, source);
    Map<String, List<String>> jobs = cluster(root.has("cluster") ? root.get("cluster") : root,
        source);
    int colon = task.lastIndexOf(':');
    if (colon <= 0 || colon == task.length() - 1) {
      throw new ClusterConfigException("--task " + task + ": expected TYPE:INDEX, e.g. worker:0");
    }
    int index;
    try {
      index = Integer.parseInt(task.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new ClusterConfigException("--task " + task + ": the index '"
          + task.substring(colon + 1) + "' is not an integer", e);
    }
    return validated(jobs, task.substring(0, colon), index, source + " --task " + task);
  }

  /** Number of replicas (tasks of chief and worker). */
  public int size() {
    return jobs.values().stream().mapToInt(List::size).sum();
  }

  /** This task's rank: chief 0 first, then the workers by index. */
  public int rank() {
    return taskType.equals("chief") || !jobs.containsKey("chief") ? taskIndex
        : jobs.get("chief").size() + taskIndex;
  }

  /** Whether this task has the chief duties (rank 0: chief 0, else worker 0). */
  public boolean isChief() {
    return rank() == 0;
  }

  /** The task of rank 0, e.g. {@code /job:chief/replica:0/task:0}: the collective group leader. */
  public String leaderDevice() {
    return "/job:" + (jobs.containsKey("chief") ? "chief" : "worker") + "/replica:0/task:0";
  }

  /** This task as a device prefix, e.g. {@code /job:worker/replica:0/task:1}. */
  public String localDevice() {
    return "/job:" + taskType + "/replica:0/task:" + taskIndex;
  }

  /** This task's {@code host:port}. */
  public String localAddress() {
    return jobs.get(taskType).get(taskIndex);
  }

  /** This task's port. */
  public int localPort() {
    return port(localAddress());
  }

  /** The session target of this task's own server. */
  public String target() {
    return "grpc://localhost:" + localPort();
  }

  /**
   * Checks that this task's port is free on this machine by binding it (all interfaces, as the
   * gRPC server will) and releasing it; a port in use is a {@link ClusterConfigException}.
   */
  public void checkLocalPortFree() {
    try (java.net.ServerSocket s = new java.net.ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new java.net.InetSocketAddress(localPort()));
    } catch (IOException e) {
      throw new ClusterConfigException("task " + taskType + ":" + taskIndex + " cannot listen on "
          + "port " + localPort() + " (" + e.getMessage() + "): another process uses it; stop it "
          + "or give this task another port in the cluster spec");
    }
  }

  private static ClusterSpec validated(Map<String, List<String>> jobs, String type, int index,
      String source) {
    if (!jobs.containsKey(type)) {
      throw new ClusterConfigException(source + ": unknown task type '" + type + "': the cluster "
          + "has the jobs " + jobs.keySet());
    }
    int n = jobs.get(type).size();
    if (index < 0 || index >= n) {
      throw new ClusterConfigException(source + ": task index " + index + " is out of range: job '"
          + type + "' has " + n + " task" + (n == 1 ? "" : "s") + " (indices 0.." + (n - 1) + ")");
    }
    return new ClusterSpec(jobs, type, index);
  }

  private static JsonNode parse(String json, String source) {
    try {
      JsonNode root = new ObjectMapper().readTree(json);
      if (root == null || !root.isObject()) {
        throw new ClusterConfigException(source + ": expected a JSON object, got "
            + (root == null ? "nothing" : root.getNodeType().toString().toLowerCase()));
      }
      return root;
    } catch (JsonProcessingException e) {
      throw new ClusterConfigException(source + ": malformed JSON at line "
          + e.getLocation().getLineNr() + " column " + e.getLocation().getColumnNr() + " ("
          + e.getOriginalMessage().lines().findFirst().orElse("") + ")", e);
    }
  }

  private static Map<String, List<String>> cluster(JsonNode c, String source) {
    if (c == null || !c.isObject() || c.isEmpty()) {
      throw new ClusterConfigException(source + ": no \"cluster\" object with a \"worker\" list "
          + "of host:port addresses");
    }
    Map<String, List<String>> jobs = new LinkedHashMap<>();
    Map<String, String> seen = new HashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = c.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String job = e.getKey();
      if (!JOBS.contains(job)) {
        throw new ClusterConfigException(source + ": job '" + job + "' is not supported: "
            + "synchronous all-reduce training uses only 'chief' (optional, one task) and "
            + "'worker'");
      }
      if (!e.getValue().isArray() || e.getValue().isEmpty()) {
        throw new ClusterConfigException(source + ": job '" + job + "' must be a non-empty list "
            + "of \"host:port\" strings");
      }
      List<String> tasks = new ArrayList<>();
      for (JsonNode a : e.getValue()) {
        String addr = a.isTextual() ? a.asText().trim() : null;
        if (addr == null || port(addr) < 0) {
          throw new ClusterConfigException(source + ": job '" + job + "' task " + tasks.size()
              + ": '" + (addr == null ? a : addr) + "' is not host:port with a port in 1..65535");
        }
        String key = addr.toLowerCase();
        String prev = seen.putIfAbsent(key, job + ":" + tasks.size());
        if (prev != null) {
          throw new ClusterConfigException(source + ": duplicate address " + addr + " (tasks "
              + prev + " and " + job + ":" + tasks.size() + "): each task needs its own port");
        }
        tasks.add(addr);
      }
      jobs.put(job, tasks);
    }
    if (jobs.containsKey("chief") && jobs.get("chief").size() > 1) {
      throw new ClusterConfigException(source + ": job 'chief' has " + jobs.get("chief").size()
          + " tasks; it may have at most one");
    }
    if (!jobs.containsKey("worker") && !jobs.containsKey("chief")) {
      throw new ClusterConfigException(source + ": the cluster has no 'worker' job");
    }
    return jobs;
  }

  /** The port of {@code host:port}, or -1 when it is not of that form. */
  static int port(String addr) {
    int colon = addr.lastIndexOf(':');
    if (colon <= 0 || colon == addr.length() - 1) {
      return -1;
    }
    try {
      int p = Integer.parseInt(addr.substring(colon + 1));
      return p >= 1 && p <= 65535 ? p : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
