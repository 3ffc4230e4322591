package dev.dks.trainers.device;

import dev.dks.rewriter.model.Model;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.DeviceStepStats;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.RunMetadata;
import org.tensorflow.proto.RunOptions;

/**
 * Where a training graph runs: {@code --device cpu|gpu|auto} (auto is the CLI's default).
 *
 * <ul>
 *   <li>{@link #config} is the session {@link ConfigProto}: {@code allow_soft_placement} always
 *       on (ops without a kernel on the requested device fall back to the CPU), optional
 *       {@code log_device_placement} and intra/inter-op thread counts (0 = TF's default; the
 *       first session of the process fixes the intra-op pool, TF Java notes R9);
 *   <li>{@link #place(Model)} sets every {@code NodeDef}'s device before {@code
 *       TrainingGraph.build}: {@code /device:GPU:0} when the effective device is the GPU, {@code
 *       /device:CPU:0} when it is the CPU;
 *   <li>{@link #resolve} turns a request into the effective device, always cpu or gpu: auto is
 *       the GPU when the runtime has one (GPU natives and a CUDA device), else the CPU; gpu
 *       without a GPU falls back to the CPU with a one-line {@link #notice()}, never a failure;
 *   <li>{@link #availableGpus} asks the runtime (a tiny traced session with an op pinned to the
 *       GPU under soft placement; the devices in its step statistics are the ones that exist);
 *   <li>{@link #deviceSummary(RunMetadata)} counts the ops of a {@code FULL_TRACE} run per
 *       device (always with {@link RunOptions}: TF Java notes R10).
 * </ul>
 */
public final class DevicePlacement {
  /** The device string of the first GPU. */
  public static final String GPU0 = "/device:GPU:0";
  /** The device string of the CPU. */
  public static final String CPU0 = "/device:CPU:0";

  /** A {@code --device} value. */
  public enum Device {
    /** Pin every op to the CPU. */
    CPU,
    /** Pin every op to the first GPU (soft placement moves ops without GPU kernels). */
    GPU,
    /** The GPU when the runtime has one (GPU natives and a CUDA device), else the CPU. */
    AUTO;

    /** Parses {@code cpu}, {@code gpu} or {@code auto} (any case). */
    public static Device parse(String s) {
      try {
        return valueOf(s.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException | NullPointerException e) {
        throw new IllegalArgumentException("unknown device '" + s + "': use cpu, gpu or auto");
      }
    }
  }

  private static volatile List<String> gpuCache;

  private final Device requested;
  private final Device effective;
  private final List<String> gpus;
  private final String notice;

  private DevicePlacement(Device requested, Device effective, List<String> gpus, String notice) {
    this.requested = requested;
    this.effective = effective;
    this.gpus = List.copyOf(gpus);
    this.notice = notice;
  }

  /**
   * Resolves {@code requested} against the GPUs the runtime has ({@link #availableGpus} with
   * {@code config}, which should be the configuration of the training session: the probe session
   * is the first of the process and fixes its thread pool).
   */
  public static DevicePlacement resolve(Device requested, ConfigProto config) {
    return resolve(requested, availableGpus(config));
  }

  /** Resolves {@code requested} against a known list of GPUs (empty: none). */
  public static DevicePlacement resolve(Device requested, List<String> gpus) {
    Objects.requireNonNull(requested, "requested");
    if (requested == Device.GPU && gpus.isEmpty()) {
      return new DevicePlacement(requested, Device.CPU, gpus, "dks: notice: --device gpu: no GPU "
          + "is available to TensorFlow (CPU natives or no CUDA device), running on the CPU");
    }
    if (requested == Device.AUTO) {
      return new DevicePlacement(requested, gpus.isEmpty() ? Device.CPU : Device.GPU, gpus, null);
    }
    return new DevicePlacement(requested, requested, gpus, null);
  }

  /** The requested device. */
  public Device requested() {
    return requested;
  }

  /**
   * The device actually used, {@code CPU} or {@code GPU}: auto resolved, and {@code CPU} when gpu
   * was requested without a GPU.
   */
  public Device effective() {
    return effective;
  }

  /** The GPUs the runtime reported. */
  public List<String> gpus() {
    return gpus;
  }

  /** The fallback notice (one line), when the request could not be honored. */
  public Optional<String> notice() {
    return Optional.ofNullable(notice);
  }

  /** The device string every node gets: GPU0, CPU0 or "" for auto. */
  public String deviceString() {
    return deviceString(effective);
  }

  /** The device string of {@code d}: GPU0, CPU0 or "" for auto. */
  public static String deviceString(Device d) {
    return switch (d) {
      case GPU -> GPU0;
      case CPU -> CPU0;
      case AUTO -> "";
    };
  }

  /**
   * A short label of the effective device and how it was chosen: {@code cpu}, {@code gpu},
   * {@code cpu (no GPU)} for gpu without one, {@code cpu (auto: no GPU)} or {@code gpu (auto)}.
   */
  public String label() {
    String how = requested == Device.AUTO ? (effective == Device.GPU ? " (auto)"
        : " (auto: no GPU)") : requested == Device.GPU && effective == Device.CPU ? " (no GPU)" : "";
    return effective.name().toLowerCase(Locale.ROOT) + how;
  }

  /** {@code model} with every node placed on {@link #deviceString()}. */
  public Model place(Model model) {
    return model.with(place(model.graph(), deviceString()), model.variables());
  }

  /** {@code graph} with every node's device set to {@code device} ("" clears it). */
  public static GraphDef place(GraphDef graph, String device) {
    GraphDef.Builder b = graph.toBuilder();
    for (NodeDef.Builder n : b.getNodeBuilderList()) {
      n.setDevice(device);
    }
    return b.build();
  }

  /**
   * The session configuration: soft placement on, {@code logPlacement} as given, thread counts
   * when positive (0 leaves TF's default).
   */
  public static ConfigProto config(boolean logPlacement, int intraOpThreads,
      int interOpThreads) {
    if (intraOpThreads < 0 || interOpThreads < 0) {
      throw new IllegalArgumentException("thread counts must be >= 0: " + intraOpThreads + ", "
          + interOpThreads);
    }
    ConfigProto.Builder b = ConfigProto.newBuilder().setAllowSoftPlacement(true)
        .setLogDevicePlacement(logPlacement);
    if (intraOpThreads > 0) {
      b.setIntraOpParallelismThreads(intraOpThreads);
    }
    if (interOpThreads > 0) {
      b.setInterOpParallelismThreads(interOpThreads);
    }
    return b.build();
  }

  /** The GPUs of the runtime, probed with the default {@link #config}. */
  public static List<String> availableGpus() {
    return availableGpus(null);
  }

  /**
   * The GPU devices the TF runtime can run on, e.g. {@code
   * /job:localhost/replica:0/task:0/device:GPU:0}; empty with the CPU natives or without a CUDA
   * device. Probed once per process: a tiny graph whose op is pinned to {@link #GPU0} runs under
   * soft placement with {@code FULL_TRACE}, and the devices of its step statistics are read.
   * Never throws: a failed probe means no GPU.
   */
  public static List<String> availableGpus(ConfigProto config) {
    List<String> cached = gpuCache;
    if (cached != null) {
      return cached;
    }
    synchronized (DevicePlacement.class) {
      if (gpuCache == null) {
        gpuCache = probe(config);
      }
      return gpuCache;
    }
  }

  private static List<String> probe(ConfigProto config) {
    ConfigProto c = (config == null ? config(false, 0, 0) : config).toBuilder()
        .setAllowSoftPlacement(true).build();
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g).withDevice(
          org.tensorflow.DeviceSpec.newBuilder().deviceType(
              org.tensorflow.DeviceSpec.DeviceType.GPU).deviceIndex(0).build());
      var a = tf.withName("probe_a").constant(new float[] {1f, 2f});
      var sum = tf.withName("probe_sum").math.add(a, a);
      try (Session s = new Session(g, c);
          Result r = s.runner().fetch(sum).setOptions(fullTrace()).runAndFetchMetadata()) {
        List<String> out = new ArrayList<>();
        for (String d : deviceSummary(r.getMetadata().orElseThrow()).keySet()) {
          if (d.toUpperCase(Locale.ROOT).contains("GPU")) {
            out.add(d);
          }
        }
        return List.copyOf(new TreeSet<>(out));
      }
    } catch (RuntimeException | LinkageError e) {
      return List.of();
    }
  }

  /** {@code RunOptions} with {@code FULL_TRACE}, for {@code runAndFetchMetadata} (R10). */
  public static RunOptions fullTrace() {
    return RunOptions.newBuilder().setTraceLevel(RunOptions.TraceLevel.FULL_TRACE).build();
  }

  /**
   * The number of ops that ran on each device in a traced run, by device name (sorted). Devices
   * whose step statistics hold no op are left out.
   */
  public static Map<String, Integer> deviceSummary(RunMetadata metadata) {
    Map<String, Integer> out = new TreeMap<>();
    for (DeviceStepStats d : metadata.getStepStats().getDevStatsList()) {
      if (d.getNodeStatsCount() > 0) {
        out.merge(d.getDevice(), d.getNodeStatsCount(), Integer::sum);
      }
    }
    return out;
  }

  /**
   * Runs {@code runner} once with {@code FULL_TRACE} and returns {@link
   * #deviceSummary(RunMetadata)} of it (the outputs are closed).
   */
  public static Map<String, Integer> deviceSummary(Session.Runner runner) {
    try (Result r = runner.setOptions(fullTrace()).runAndFetchMetadata()) {
      return deviceSummary(r.getMetadata().orElseThrow(
          () -> new IllegalStateException("TF returned no run metadata")));
    }
  }

  /** A one-line text form of a summary, e.g. {@code CPU:0 42 ops}. */
  public static String describe(Map<String, Integer> summary) {
    if (summary.isEmpty()) {
      return "no ops traced";
    }
    List<String> parts = new ArrayList<>();
    summary.forEach((d, n) -> parts.add(shortName(d) + " " + n + " ops"));
    return String.join(", ", parts);
  }

  /** {@code /job:localhost/replica:0/task:0/device:CPU:0} -> {@code CPU:0}. */
  public static String shortName(String device) {
    int i = device.lastIndexOf("device:");
    return i >= 0 ? device.substring(i + "device:".length()) : device;
  }

  /** Forgets the probed GPUs (tests). */
  static void resetProbe() {
    gpuCache = null;
  }
}
