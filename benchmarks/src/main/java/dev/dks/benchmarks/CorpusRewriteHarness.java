package dev.dks.benchmarks;

import dev.dks.benchmarks.RewriteTiming.Instrumented;
import dev.dks.benchmarks.RewriteTiming.TimedPass;
import dev.dks.benchmarks.RewriteTiming.TimedVerifier;
import dev.dks.benchmarks.corpus.CorpusModels;
import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.model.Model;
import dev.dks.savedmodels.ModelReaders;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Rewrite time of the largest models of the issue-18 corpus ({@link CorpusModels}), cold and
 * JVM-warm, with the time of every pass and verifier (issue 18 goal: "rewrite time stays linear:
 * the largest corpus graph in under 2 s on 2 cores").
 *
 * <ul>
 *   <li><b>cold</b>: a fresh JVM per model (this class started again with {@code --child}) reads
 *       the model.json (not timed) and times its first rewrite: what one {@code dks rewrite}
 *       costs, JIT and TensorFlow's first-use costs included;
 *   <li><b>warm</b>: in this JVM, after {@code --warmup} untimed rewrites of every model, the median
 *       of {@code --rounds} timed rewrites.
 * </ul>
 *
 * The rewrite is the {@code dks rewrite} pipeline with its defaults (TAT, leaky_relu) on the graph
 * as read, as {@code CorpusRunner} runs it, each pass and verifier wrapped in a timer ({@link
 * RewriteTiming#full}). A refused rewrite is timed up to its refusal and marked. Times are wall
 * milliseconds (what a user waits), CPU milliseconds of the rewriting thread, and of the whole
 * process (dks-init samples on all cores; TensorFlow and the GC have threads of their own). On a
 * shared machine the CPU times are the ones to compare.
 *
 * <p>Default models: the 5 largest by weight bytes and the 5 largest by node count. Usage: {@code
 * java -cp benchmarks.jar dev.dks.benchmarks.CorpusRewriteHarness [--models a,b] [--rounds 3]
 * [--warmup 2] [--cold yes|no]}.
 */
public final class CorpusRewriteHarness {
  private static final Logger READERS = Logger.getLogger("dev.dks.savedmodels");
  private static final String ROW = "ROW\t";

  private CorpusRewriteHarness() {}

  /** One timed rewrite: total and per stage (pass or verifier) wall and CPU ms. */
  record Timing(double wallMs, double cpuMs, double processCpuMs, Map<String, double[]> stages,
      String refusal) {}

  /** CPU time of the whole process (all threads: the parallel dks-init, TensorFlow, GC, JIT). */
  static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
        .getOperatingSystemMXBean()).getProcessCpuTime();
  }

  /** Entry point. */
  public static void main(String[] args) throws Exception {
    READERS.setLevel(Level.OFF);
    Path dir = CorpusHarnessOptions.corpusDir();
    if (args.length == 2 && args[0].equals("--child")) {
      Timing t = timeOnce(read(dir, args[1]));
      System.out.println(ROW + encode(t));
      return;
    }
    CorpusHarnessOptions opt = CorpusHarnessOptions.parse(args, Map.of("--rounds", "3",
        "--warmup", "2", "--cold", "yes", "--models", ""),
        "options: --models a,b  --rounds N  --warmup N  --cold yes|no", dir);
    if (opt == null) {
      return;
    }
    List<String> names = opt.models().isEmpty() ? largest(dir) : opt.models();
    int rounds = opt.rounds();
    int warmup = opt.warmup();
    PrintStream out = System.out;
    HarnessSupport.printEnvironment(out);
    long start = System.nanoTime();

    Map<String, Timing> cold = new LinkedHashMap<>();
    if (opt.get("--cold").equals("yes")) {
      for (String n : names) {
        cold.put(n, child(n));
        out.printf(Locale.ROOT, "  cold %-26s %9.0f ms%n", n, cold.get(n).wallMs());
      }
    }
    Map<String, Model> models = new LinkedHashMap<>();
    Map<String, Integer> nodes = new LinkedHashMap<>();
    for (String n : names) {
      Model m = read(dir, n);
      models.put(n, m);
      nodes.put(n, m.graph().getNodeCount());
    }
    for (int i = 0; i < warmup; i++) {
      for (Model m : models.values()) {
        timeOnce(m);
      }
    }
    Map<String, List<Timing>> warm = new LinkedHashMap<>();
    for (int i = 0; i < rounds; i++) {
      for (Map.Entry<String, Model> e : models.entrySet()) {
        System.gc();
        warm.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(timeOnce(e.getValue()));
      }
    }
    out.println();
    out.println("Rewrite time (dks rewrite defaults, TAT), wall ms; cold = first rewrite in a "
        + "fresh JVM, warm = median of " + rounds + " after " + warmup + " warm-up round(s)");
    out.println("(cpu = CPU ms of the rewriting thread; proc = CPU ms of the whole process, all "
        + "threads; on an otherwise idle 2-core machine the wall time is at least proc/2)");
    String fmt = "%-26s %6s %8s | %9s %9s %9s | %9s %9s %9s | %s%n";
    out.printf(Locale.ROOT, fmt, "model", "nodes", "MB", "cold ms", "cold cpu", "cold proc",
        "warm ms", "warm cpu", "warm proc", "");
    for (String n : names) {
      Timing c = cold.get(n);
      List<Timing> w = warm.get(n);
      double mb = models.get(n).graph().getSerializedSize() / 1e6;
      String refusal = w.get(0).refusal();
      out.printf(Locale.ROOT, fmt, n, nodes.get(n), String.format(Locale.ROOT, "%.1f", mb),
          c == null ? "-" : f0(c.wallMs()), c == null ? "-" : f0(c.cpuMs()),
          c == null ? "-" : f0(c.processCpuMs()),
          f0(median(w, Timing::wallMs)), f0(median(w, Timing::cpuMs)),
          f0(median(w, Timing::processCpuMs)),
          refusal == null ? "" : "refused: " + HarnessSupport.firstLine(refusal, 70));
    }
    out.println();
    out.println("Per stage, warm median wall ms and CPU ms of the rewriting thread (verifier rows "
        + "sum all of its calls), cold wall ms");
    for (String n : names) {
      List<Timing> w = warm.get(n);
      out.println("  " + n + ":");
      for (String stage : w.get(0).stages().keySet()) {
        double wall = median(w, t -> t.stages().getOrDefault(stage, new double[2])[0]);
        double cpu = median(w, t -> t.stages().getOrDefault(stage, new double[2])[1]);
        Timing c = cold.get(n);
        double[] cs = c == null ? null : c.stages().get(stage);
        out.printf(Locale.ROOT, "    %-44s warm %8.1f (cpu %8.1f)   cold %8s%n", stage, wall, cpu,
            cs == null ? "-" : String.format(Locale.ROOT, "%.1f", cs[0]));
      }
    }
    out.printf(Locale.ROOT, "%nwhole run %.0f s%n", (System.nanoTime() - start) / 1e9);
  }

  /** The 5 largest models by weight bytes and the 5 largest by node count, largest first. */
  static List<String> largest(Path dir) throws IOException {
    Map<String, Long> bytes = new LinkedHashMap<>();
    Map<String, Long> nodes = new LinkedHashMap<>();
    for (String n : CorpusModels.NAMES) {
      Path bin = dir.resolve(n + ".bin");
      bytes.put(n, Files.exists(bin) ? Files.size(bin) : 0L);
      // node count from the model.json text: one "op" key per node (cheap, no TF)
      String json = Files.readString(CorpusModels.modelJson(dir, n));
      nodes.put(n, (long) json.split("\"op\"", -1).length - 1);
    }
    LinkedHashSet<String> pick = new LinkedHashSet<>();
    top(bytes, 5).forEach(pick::add);
    top(nodes, 5).forEach(pick::add);
    return new ArrayList<>(pick);
  }

  private static List<String> top(Map<String, Long> m, int k) {
    return m.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .limit(k).map(Map.Entry::getKey).toList();
  }

  private static Model read(Path dir, String name) {
    return ModelReaders.read(CorpusModels.modelJson(dir, name));
  }

  /** One instrumented rewrite of {@code m} with the defaults. */
  static Timing timeOnce(Model m) {
    Instrumented p = RewriteTiming.full(RewriteOptions.defaults());
    String refusal = null;
    long c0 = RewriteTiming.cpuNanos();
    long p0 = processCpuNanos();
    long t0 = System.nanoTime();
    try {
      p.pipeline().run(m);
    } catch (RuntimeException e) {
      refusal = e.getClass().getSimpleName() + ": " + e.getMessage();
    }
    double wall = (System.nanoTime() - t0) / 1e6;
    double cpu = (RewriteTiming.cpuNanos() - c0) / 1e6;
    double proc = (processCpuNanos() - p0) / 1e6;
    Map<String, double[]> stages = new LinkedHashMap<>();
    for (TimedPass t : p.passes()) {
      stages.put("pass " + t.name(), new double[] {t.nanos / 1e6, t.cpu / 1e6});
    }
    for (TimedVerifier v : p.verifiers()) {
      stages.put(v.label + " x" + v.calls, new double[] {v.nanos / 1e6, v.cpu / 1e6});
    }
    return new Timing(wall, cpu, proc, stages, refusal);
  }

  /** Runs this class with {@code --child name} in a fresh JVM and parses its timing row. */
  private static Timing child(String name) throws IOException, InterruptedException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>(List.of(java, "-Xmx4g",
        "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0", "-cp", System.getProperty("java.class.path"),
        CorpusRewriteHarness.class.getName(), "--child", name));
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    Timing t = null;
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
        StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null; ) {
        if (line.startsWith(ROW)) {
          t = decode(line.substring(ROW.length()));
        }
      }
    }
    int rc = p.waitFor();
    if (t == null) {
      throw new IllegalStateException("the cold run of " + name + " printed no timing (exit "
          + rc + ")");
    }
    return t;
  }

  private static String encode(Timing t) {
    StringBuilder sb = new StringBuilder();
    sb.append(t.wallMs()).append('\t').append(t.cpuMs()).append('\t').append(t.processCpuMs())
        .append('\t')
        .append(t.refusal() == null ? "-" : t.refusal().replace('\t', ' ').replace('\n', ' '));
    t.stages().forEach((k, v) -> sb.append('\t').append(k).append('\t').append(v[0])
        .append('\t').append(v[1]));
    return sb.toString();
  }

  private static Timing decode(String s) {
    String[] f = s.split("\t");
    Map<String, double[]> stages = new LinkedHashMap<>();
    for (int i = 4; i + 2 < f.length; i += 3) {
      stages.put(f[i], new double[] {Double.parseDouble(f[i + 1]), Double.parseDouble(f[i + 2])});
    }
    return new Timing(Double.parseDouble(f[0]), Double.parseDouble(f[1]),
        Double.parseDouble(f[2]), stages, f[3].equals("-") ? null : f[3]);
  }

  private static double median(List<Timing> ts, java.util.function.ToDoubleFunction<Timing> f) {
    List<Double> v = new ArrayList<>();
    ts.forEach(t -> v.add(f.applyAsDouble(t)));
    return HarnessSupport.median(v);
  }

  private static String f0(double v) {
    return String.format(Locale.ROOT, "%.0f", v);
  }
}
