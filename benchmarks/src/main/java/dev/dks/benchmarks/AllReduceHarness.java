package dev.dks.benchmarks;

import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.trainers.distributed.ClusterServer;
import dev.dks.trainers.distributed.ClusterSpec;
import dev.dks.trainers.distributed.CollectiveMean;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.types.TFloat32;

/**
 * Loopback all-reduce throughput of dks-java's distributed training (issue 13): {@code N} JVMs
 * (this class re-launched as workers, ports picked free) each average a float32 vector of
 * {@code S} elements with one {@code CollectiveReduceV2} (as {@link CollectiveMean} emits it for a
 * step's packed gradients), {@code R} times per size after a warm-up; the chief prints the median
 * time per all-reduce, the algorithm bandwidth {@code 4S / t} and the ring's bus bandwidth
 * {@code 2 (N-1)/N * 4S / t} (bytes each task sends per all-reduce, over time).
 *
 * <p>It also prints the bytes a training step exchanges for the reference network (plain CNN
 * depth 50, width 64, 28x28x1, 10 classes: the trainable parameters + loss and accuracy, 4 bytes
 * each) and for ResNet-50 (25,557,032 parameters, the published count of the Keras/torchvision
 * model), per task in a ring of N: {@code 2 (N-1)/N * 4 P}, and what a K-FAC statistics step
 * adds: every factor ({@link KfacTraffic}). {@code AllReduceHarness bytes [N]} prints only those.
 *
 * <pre>{@code java -cp benchmarks.jar dev.dks.benchmarks.AllReduceHarness [N] [R]}</pre>
 */
public final class AllReduceHarness {
  static final long[] SIZES = {1L << 10, 1L << 16, 1L << 20, 1L << 22, 1L << 24};
  static final long RESNET50_PARAMETERS = 25_557_032L;

  private AllReduceHarness() {}

  /** {@code [N [R]]} as the driver; {@code worker RANK PORTS R OUT} as a worker. */
  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("worker")) {
      worker(Integer.parseInt(args[1]), args[2], Integer.parseInt(args[3]), Path.of(args[4]));
      return;
    }
    if (args.length > 0 && args[0].equals("bytes")) {
      printBytes(args.length > 1 ? Integer.parseInt(args[1]) : 2);
      return;
    }
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 2;
    int reps = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    BenchmarkSupportLines.machine();
    List<String> ports = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      try (ServerSocket s = new ServerSocket(0)) {
        ports.add(String.valueOf(s.getLocalPort()));
      }
    }
    Path dir = Files.createTempDirectory("allreduce");
    List<Process> procs = new ArrayList<>();
    try {
      for (int r = 0; r < n; r++) {
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin",
            "java").toString(), "-cp", System.getProperty("java.class.path"),
            AllReduceHarness.class.getName(), "worker", String.valueOf(r), String.join(",", ports),
            String.valueOf(reps), dir.resolve("r" + r).toString());
        pb.environment().putIfAbsent("TF_CPP_MIN_LOG_LEVEL", "2");
        pb.redirectErrorStream(true).redirectOutput(dir.resolve("log" + r).toFile());
        procs.add(pb.start());
      }
      for (int r = 0; r < n; r++) {
        if (!procs.get(r).waitFor(600, TimeUnit.SECONDS) || procs.get(r).exitValue() != 0) {
          System.out.println("worker " + r + " failed:\n" + Files.readString(dir.resolve("log"
              + r)));
          System.exit(1);
        }
      }
    } finally {
      procs.forEach(Process::destroyForcibly);
    }
    System.out.printf(Locale.ROOT, "all-reduce on loopback, %d JVMs, median of %d:%n", n, reps);
    System.out.println("  elements        MB   ms/reduce   algo MB/s   bus MB/s");
    for (String line : Files.readAllLines(dir.resolve("r0"))) {
      String[] f = line.split(" ");
      long s = Long.parseLong(f[0]);
      double ms = Double.parseDouble(f[1]);
      double mb = 4.0 * s / 1e6;
      System.out.printf(Locale.ROOT, "  %8d  %8.3f  %10.2f  %10.1f  %9.1f%n", s, mb, ms,
          mb / (ms / 1e3), 2.0 * (n - 1) / n * mb / (ms / 1e3));
    }
    printBytes(n);
  }

  /** The bytes per step of the reference network and ResNet-50, SGD and K-FAC statistics steps. */
  static void printBytes(int n) {
    Model refModel = ModelBuilder.build(ArchitectureSpec.builder(Architecture.PLAIN_CNN, 50)
        .width(64).input("28x28x1").classes(10).seed(1).build()).model();
    long ref = parameters(refModel);
    long[][] nets = {{ref, KfacTraffic.factorFloats(refModel)},
        {RESNET50_PARAMETERS, KfacTraffic.resnet50FactorFloats()}};
    for (int i = 0; i < nets.length; i++) {
      long[] p = nets[i];
      double bytes = 4.0 * (p[0] + 2);
      double kfac = bytes + 4.0 * p[1];
      System.out.printf(Locale.ROOT, "bytes per step, %s: %d parameters -> %.2f MB packed; "
          + "each task sends %.2f MB per step with %d tasks (ring: 2(N-1)/N x packed); K-FAC "
          + "statistics steps add %d factor floats: %.2f MB packed (%.1fx), %.2f MB sent%n",
          i == 0 ? "reference plain CNN 50x64" : "ResNet-50", p[0], bytes / 1e6,
          2.0 * (n - 1) / n * bytes / 1e6, n, p[1], kfac / 1e6, kfac / bytes,
          2.0 * (n - 1) / n * kfac / 1e6);
    }
  }

  static long parameters(Model m) {
    long total = 0;
    for (TensorProto t : m.variables().values()) {
      total += TensorProtos.floats(t).length;
    }
    return total;
  }

  private static void worker(int rank, String ports, int reps, Path out) throws Exception {
    String[] p = ports.split(",");
    StringBuilder workers = new StringBuilder();
    for (int i = 0; i < p.length; i++) {
      workers.append(i == 0 ? "" : ", ").append("\"localhost:").append(p[i]).append('"');
    }
    ClusterSpec spec = ClusterSpec.fromTfConfig("{\"cluster\": {\"worker\": [" + workers
        + "]}, \"task\": {\"type\": \"worker\", \"index\": " + rank + "}}", "harness");
    ClusterServer server = ClusterServer.start(spec, null, 120);
    List<String> lines = new ArrayList<>();
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    List<Operand<TFloat32>> reduced = new ArrayList<>();
    for (long s : SIZES) {
      Operand<TFloat32> x = tf.fill(tf.constant(new long[] {s}), tf.constant((float) rank));
      reduced.add(server.mean(tf, List.of(x)).get(0));
    }
    Operand<TFloat32> done = server.barrier(tf, "done", 120);
    Session session = server.openSession(g);
    session.initialize();
    for (int i = 0; i < SIZES.length; i++) {
      // fetch one element only (no copy of the whole vector into Java): mean of 0..N-1
      Operand<TFloat32> last = tf.slice(reduced.get(i), tf.constant(new long[] {SIZES[i] - 1}),
          tf.constant(new long[] {1}));
      double[] ms = new double[reps];
      for (int k = -2; k < reps; k++) {
        long t0 = System.nanoTime();
        try (Result r = session.runner().fetch(last).run()) {
          float got = ((TFloat32) r.get(0)).getFloat(0);
          float want = (p.length - 1) / 2f;
          if (Math.abs(got - want) > 1e-6) {
            throw new IllegalStateException("wrong mean: " + got + " vs " + want);
          }
        }
        if (k >= 0) {
          ms[k] = (System.nanoTime() - t0) / 1e6;
        }
      }
      java.util.Arrays.sort(ms);
      lines.add(SIZES[i] + " " + ms[reps / 2]);
    }
    session.runner().fetch(done).run().close();
    Files.write(out, lines);
    Thread.sleep(1000);
    Runtime.getRuntime().halt(0);
  }

  /** The machine line the shell scripts print, for runs straight from java. */
  static final class BenchmarkSupportLines {
    static void machine() {
      try {
        System.out.println("machine: " + Runtime.getRuntime().availableProcessors() + " cores, "
            + "load " + Files.readString(Path.of("/proc/loadavg")).strip());
      } catch (IOException e) {
        System.out.println("machine: " + Runtime.getRuntime().availableProcessors() + " cores");
      }
    }
  }
}
