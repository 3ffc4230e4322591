package dev.dks.benchmarks;

import dev.dks.benchmarks.CorpusRewriteHarness.Timing;
import dev.dks.benchmarks.corpus.CorpusModels;
import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.model.Model;
import dev.dks.savedmodels.ModelReaders;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Issue 18's goal "rewrite time stays linear: the largest corpus graph in under 2 s on 2 cores",
 * measured over the whole corpus ({@link CorpusModels}): {@code dks rewrite} with its defaults
 * (TAT), in one JVM, warm (after {@code --warmup} untimed rewrites of every model), the median of
 * {@code --rounds} timed rewrites per model. Prints, by node count, the CPU time of the rewriting
 * thread (ThreadMXBean: the serial work, TensorFlow's imports included) and of the whole process,
 * split by thread kind ({@link ThreadCpu}: GC, JIT, dks-init's fork-join sampling, other), the
 * CPU time per node, a least-squares line and a power-law exponent of thread CPU against nodes (1
 * = linear), with and without dks-init (whose orthogonal sampling follows the kernels' sizes), and the per-pass and per-verifier CPU shares of the largest graph.
 *
 * <p>CPU times, not wall times: the machine this runs on is shared, and a wall time there is
 * mostly waiting. On an otherwise idle 2-core machine the wall time of a rewrite is at least
 * max(thread CPU, process CPU / 2) and at most about the process CPU.
 *
 * <p>Usage: {@code java -cp benchmarks.jar dev.dks.benchmarks.CorpusLinearityHarness [--models
 * a,b] [--rounds 3] [--warmup 1]}; {@code benchmarks/run-corpus-linearity.sh} builds and runs it.
 */
public final class CorpusLinearityHarness {
  private static final Logger READERS = Logger.getLogger("dev.dks.savedmodels");

  private CorpusLinearityHarness() {}

  /** One model's warm medians. */
  record Row(String name, int nodes, double threadMs, double initMs, double processMs,
      Map<String, Double> kinds, Timing sample, String refusal) {
    /** Thread CPU of everything but dks-init (whose sampling scales with kernel sizes). */
    double restMs() {
      return threadMs - initMs;
    }
  }

  /** The pass whose cost follows the kernels' sizes, not the node count. */
  static final String INIT_STAGE = "pass dks-init";

  /** Entry point. */
  public static void main(String[] args) throws Exception {
    READERS.setLevel(Level.OFF);
    Path dir = CorpusHarnessOptions.corpusDir();
    CorpusHarnessOptions opt = CorpusHarnessOptions.parse(args, Map.of("--rounds", "3",
        "--warmup", "1", "--models", ""), "options: --models a,b  --rounds N  --warmup N", dir);
    if (opt == null) {
      return;
    }
    List<String> names = opt.models().isEmpty() ? CorpusModels.NAMES : opt.models();
    int rounds = opt.rounds();
    int warmup = opt.warmup();
    PrintStream out = System.out;
    HarnessSupport.printEnvironment(out);
    long start = System.nanoTime();
    Map<String, Model> models = new LinkedHashMap<>();
    for (String n : names) {
      models.put(n, ModelReaders.read(CorpusModels.modelJson(dir, n)));
    }
    for (int i = 0; i < warmup; i++) {
      for (Map.Entry<String, Model> e : models.entrySet()) {
        CorpusRewriteHarness.timeOnce(e.getValue());
        System.err.printf(Locale.ROOT, "warm-up %d: %s%n", i + 1, e.getKey());
      }
    }
    Map<String, List<Timing>> timings = new LinkedHashMap<>();
    Map<String, List<Map<String, Double>>> kinds = new LinkedHashMap<>();
    for (int i = 0; i < rounds; i++) {
      for (Map.Entry<String, Model> e : models.entrySet()) {
        System.gc();
        Map<String, double[]> before = ThreadCpu.snapshot();
        Timing t = CorpusRewriteHarness.timeOnce(e.getValue());
        kinds.computeIfAbsent(e.getKey(), k -> new ArrayList<>())
            .add(ThreadCpu.byKind(before, ThreadCpu.snapshot()));
        timings.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(t);
      }
      System.err.printf(Locale.ROOT, "round %d of %d done%n", i + 1, rounds);
    }
    List<Row> rows = new ArrayList<>();
    for (String n : names) {
      List<Timing> ts = timings.get(n);
      Map<String, Double> k = new LinkedHashMap<>();
      for (String kind : ThreadCpu.KINDS) {
        k.put(kind, HarnessSupport.median(kinds.get(n).stream().map(m -> m.get(kind)).toList()));
      }
      Timing mid = ts.stream().sorted(Comparator.comparingDouble(Timing::cpuMs)).toList()
          .get(ts.size() / 2);
      rows.add(new Row(n, models.get(n).graph().getNodeCount(),
          HarnessSupport.median(ts.stream().map(Timing::cpuMs).toList()),
          HarnessSupport.median(ts.stream().map(t -> t.stages().getOrDefault(INIT_STAGE,
              new double[2])[1]).toList()),
          HarnessSupport.median(ts.stream().map(Timing::processCpuMs).toList()), k, mid,
          ts.get(0).refusal()));
    }
    rows.sort(Comparator.comparingInt(Row::nodes));
    print(out, rows, rounds, warmup);
    out.printf(Locale.ROOT, "%nwhole run %.0f s (wall)%n", (System.nanoTime() - start) / 1e9);
  }

  /** The tables: per model, the fit, and the largest graph's stages. */
  static void print(PrintStream out, List<Row> rows, int rounds, int warmup) {
    out.println();
    out.printf(Locale.ROOT, "dks rewrite defaults (TAT), warm: median of %d rewrites after %d "
        + "warm-up round(s), CPU ms; thread = the rewriting thread; process = all threads, of "
        + "which gc, jit, fork-join (dks-init sampling) and other (TensorFlow, JVM) by thread "
        + "kind (10 ms resolution); us/node = thread CPU per node%n", rounds, warmup);
    out.println();
    out.println("| model | nodes | thread CPU ms | of it dks-init | rest | rest us/node | "
        + "process CPU ms | gc | jit | fork-join | other | |");
    out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for (Row r : rows) {
      out.printf(Locale.ROOT, "| %s | %d | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f "
          + "| %.0f | %s |%n",
          r.name(), r.nodes(), r.threadMs(), r.initMs(), r.restMs(),
          1e3 * r.restMs() / r.nodes(), r.processMs(), r.kinds().get("gc"),
          r.kinds().get("jit"), r.kinds().get("fork-join"), r.kinds().get("other"),
          r.refusal() == null ? "" : "refused: " + HarnessSupport.firstLine(r.refusal(), 60));
    }
    // refused rewrites stop early: not in the fits
    List<Row> done = rows.stream().filter(r -> r.refusal() == null).toList();
    if (done.size() >= 2) {
      out.println();
      fit(out, "thread CPU", done, Row::threadMs);
      fit(out, "thread CPU without dks-init", done, Row::restMs);
      out.println("(dks-init samples orthogonal kernels: its cost follows the kernels' sizes, "
          + "a QR per kernel, not the node count)");
      Row largest = done.get(done.size() - 1);
      out.printf(Locale.ROOT, "largest graph %s (%d nodes): thread %.0f ms, process %.0f ms; on "
          + "an idle 2-core machine at least %.0f ms and at most about %.0f ms of wall time "
          + "(goal: under 2000)%n", largest.name(), largest.nodes(), largest.threadMs(),
          largest.processMs(), Math.max(largest.threadMs(), largest.processMs() / 2),
          largest.processMs());
      stages(out, largest);
    }
  }

  /** Prints the least-squares line and power-law exponent of {@code y} against nodes. */
  private static void fit(PrintStream out, String what, List<Row> rows,
      java.util.function.ToDoubleFunction<Row> y) {
    double[] x = rows.stream().mapToDouble(Row::nodes).toArray();
    double[] v = rows.stream().mapToDouble(y).toArray();
    double[] line = leastSquares(x, v);
    double[] power = leastSquares(java.util.Arrays.stream(x).map(Math::log).toArray(),
        java.util.Arrays.stream(v).map(t -> Math.log(Math.max(t, 1e-3))).toArray());
    out.printf(Locale.ROOT, "%s ms = %.3f * nodes + %.1f (least squares over %d models, R^2 %.3f);"
        + " power law: ~ nodes^%.2f (1 = linear, 2 = quadratic)%n", what, line[0], line[1],
        rows.size(), line[2], power[0]);
  }

  /** The CPU share of every pass and verifier in one rewrite of {@code r} (its median run). */
  private static void stages(PrintStream out, Row r) {
    out.println();
    out.printf(Locale.ROOT, "%s, CPU ms of the rewriting thread per stage (its median rewrite, "
        + "%.0f ms; verifier rows sum their calls)%n%n", r.name(), r.sample().cpuMs());
    out.println("| stage | CPU ms | share |");
    out.println("|---|---:|---:|");
    double total = r.sample().cpuMs();
    double listed = 0;
    for (Map.Entry<String, double[]> e : r.sample().stages().entrySet()) {
      double cpu = e.getValue()[1];
      if (cpu >= 0.5) {
        listed += cpu;
        out.printf(Locale.ROOT, "| %s | %.0f | %.1f%% |%n", e.getKey(), cpu, 100 * cpu / total);
      }
    }
    out.printf(Locale.ROOT, "| rest (stages under 0.5 ms, the pipeline's own work) | %.0f | "
        + "%.1f%% |%n", total - listed, 100 * (total - listed) / total);
  }

  /** Slope, intercept and R^2 of the least-squares line through (x, y). */
  static double[] leastSquares(double[] x, double[] y) {
    int n = x.length;
    double mx = 0;
    double my = 0;
    for (int i = 0; i < n; i++) {
      mx += x[i] / n;
      my += y[i] / n;
    }
    double sxy = 0;
    double sxx = 0;
    double syy = 0;
    for (int i = 0; i < n; i++) {
      sxy += (x[i] - mx) * (y[i] - my);
      sxx += (x[i] - mx) * (x[i] - mx);
      syy += (y[i] - my) * (y[i] - my);
    }
    double slope = sxx == 0 ? 0 : sxy / sxx;
    double r2 = sxx == 0 || syy == 0 ? 1 : sxy * sxy / (sxx * syy);
    return new double[] {slope, my - slope * mx, r2};
  }
}
