package dev.dks.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.dks.benchmarks.RewriteGraphs.Case;
import dev.dks.benchmarks.RewriteTiming.Instrumented;
import dev.dks.benchmarks.RewriteTiming.TimedPass;
import dev.dks.benchmarks.RewriteTiming.TimedVerifier;
import dev.dks.rewriter.DksRewrite;
import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.pipeline.Pipeline;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import org.tensorflow.Graph;
import org.tensorflow.TensorFlow;

/**
 * How the DKS/TAT rewrite scales with the graph size (issue 3, performance: linear growth, under
 * 1 s for 10k nodes). For each graph of {@link RewriteGraphs} (synthetic residual chains, BN plain
 * CNNs and MLPs of about 1k, 10k and 100k nodes; BN ResNet-50/101/152/200), measured side by side
 * in one process:
 *
 * <ul>
 *   <li><b>full</b>: the whole {@link DksRewrite} pipeline with TAT defaults and its verifiers
 *       (structural + TensorFlow before and after every pass, TensorFlow with gradients after the
 *       last);
 *   <li><b>no-TF</b>: the same passes with only the structural verifier;
 *   <li><b>import</b>: {@code Graph.importGraphDef} of the input GraphDef into a fresh TF graph (the
 *       reference cost of handing the graph to TensorFlow once; closing the graph not counted);
 *   <li>per pass (from the no-TF runs) and per verifier (from the full runs), and the GC time of
 *       the full runs.
 * </ul>
 *
 * Every time is taken as wall time and as CPU time of the running thread (TensorFlow's import and
 * shape inference run on it as well): the CPU time leaves out other processes on the machine and
 * GC pauses, so its growth is the one to judge linearity by; the wall time is what a user waits.
 * Tables show medians as microseconds per input node, and the growth of the per-node cost from one
 * size to the next of the same family (1.0 = linear; 10 = quadratic for 10x the nodes).
 *
 * <p>Rounds: graphs up to 3k nodes get 3 warm-up rounds and 5 measured rounds, up to 30k nodes 1
 * and 3, larger ones no warm-up and 1 round (the JIT is warm from the smaller graphs, which run
 * first). The first warm-up of a graph is the plain, uninstrumented {@code
 * DksRewrite.pipeline(o).build().run(model)}; measured rounds use the instrumented copies of
 * {@link RewriteTiming}, whose timers cost about a microsecond per pass. A round that would end
 * after the time budget is not started (each graph keeps at least one).
 *
 * <p>Usage: {@code java -cp benchmarks.jar dev.dks.benchmarks.RewriteScalingHarness [--sizes
 * 1000,10000,100000] [--families chain,plain-cnn,mlp,resnet] [--runs N] [--budget SECONDS]
 * [--json FILE]}; {@code --runs} caps the measured rounds, the budget defaults to 200 s.
 */
public final class RewriteScalingHarness {
  private RewriteScalingHarness() {}

  /** Repeated measurements of one quantity, wall and CPU milliseconds. */
  static final class Times extends HarnessSupport.Times {
    Map<String, List<Double>> json() {
      return Map.of("wallMs", wall, "cpuMs", cpu);
    }
  }

  /** The measurements of one graph. */
  static final class Result {
    final Case c;
    int nodes;
    int nodesAfter;
    int variables;
    double buildMs;
    double plainFullMs = Double.NaN;
    int rounds;
    final Times full = new Times();
    final Times noTf = new Times();
    final Times imp = new Times();
    final List<Double> gcFullMs = new ArrayList<>();
    final List<Double> gcNoTfMs = new ArrayList<>();
    final Map<String, Times> pass = new LinkedHashMap<>();
    final Map<String, Times> passInFull = new LinkedHashMap<>();
    final Map<String, Times> verifier = new LinkedHashMap<>();
    final Map<String, Integer> verifierCalls = new LinkedHashMap<>();
    final Map<String, Integer> changes = new LinkedHashMap<>();
    String error;

    Result(Case c) {
      this.c = c;
    }

    double perNodeUs(double ms) {
      return ms * 1000.0 / nodes;
    }

    boolean measured() {
      return error == null && !full.isEmpty();
    }
  }

  public static void main(String[] args) throws IOException {
    int[] sizes = {1_000, 10_000, 100_000};
    List<String> families = RewriteGraphs.FAMILIES;
    int runsCap = Integer.MAX_VALUE;
    double budget = 200;
    Path json = Path.of("benchmarks/target/rewrite-scaling.json");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--sizes" -> sizes = Arrays.stream(args[++i].split(","))
            .mapToInt(s -> (int) Double.parseDouble(s.trim().toLowerCase(Locale.ROOT)
                .replace("k", "e3"))).toArray();
        case "--families" -> families = Arrays.stream(args[++i].split(",")).map(String::trim)
            .toList();
        case "--runs" -> runsCap = Integer.parseInt(args[++i]);
        case "--budget" -> budget = Double.parseDouble(args[++i]);
        case "--json" -> json = Path.of(args[++i]);
        case "-h", "--help" -> {
          System.out.println("usage: RewriteScalingHarness [--sizes 1000,10000,100000] "
              + "[--families " + String.join(",", RewriteGraphs.FAMILIES) + "] [--runs N] "
              + "[--budget SECONDS] [--json FILE]");
          return;
        }
        default -> throw new IllegalArgumentException("unknown argument '" + args[i]
            + "' (--help lists the options)");
      }
    }
    Arrays.sort(sizes);
    PrintStream out = System.out;
    long start = System.nanoTime();
    HarnessSupport.printEnvironment(out);
    RewriteOptions o = RewriteOptions.defaults();
    out.println("rewrite: DksRewrite, " + o.method() + " defaults, shortcut weight "
        + o.shortcutWeight() + ", max-pools replaced; passes "
        + DksRewrite.pipeline(o).build().passes().stream().map(p -> p.name()).toList());
    RewriteTiming.full(o);
    out.println("full pipeline verifiers: " + RewriteTiming.verifierSource);

    // JIT warm-up on a small graph, so that the first measured graph does not pay for it.
    Model warm = RewriteGraphs.residualChain(20);
    for (int i = 0; i < 5; i++) {
      DksRewrite.pipeline(o).build().run(warm);
      RewriteTiming.structuralOnly(o).pipeline().run(warm);
      importMs(warm, new Times());
    }

    List<Case> cases = new ArrayList<>();
    for (String f : families) {
      cases.addAll(RewriteGraphs.cases(f, sizes));
    }
    // Smallest graphs first (all families): the JIT warms up on them, and the budget cuts rounds
    // of the largest graphs only.
    List<Case> bySize = new ArrayList<>(cases);
    bySize.sort(Comparator.comparingInt(c -> c.target() == 0 ? 3_000 : c.target()));
    Map<Case, Result> results = new LinkedHashMap<>();
    cases.forEach(c -> results.put(c, new Result(c)));
    double deadline = start / 1e9 + budget;
    for (Case c : bySize) {
      Result r = results.get(c);
      try {
        measure(r, o, runsCap, deadline, out);
      } catch (RuntimeException | OutOfMemoryError e) {
        r.error = e.getClass().getSimpleName() + ": "
            + HarnessSupport.firstLine(e.getMessage(), 160);
        out.printf(Locale.ROOT, "  %-30s FAILED: %s%n", c.label(), r.error);
      }
      System.gc();
    }
    List<Result> rs = new ArrayList<>(results.values());
    out.println();
    printSummary(rs, out);
    out.println();
    printPasses(rs, out);
    HarnessSupport.finish(out, start, json, jsonRows(rs));
  }

  private static void measure(Result r, RewriteOptions o, int runsCap, double deadline,
      PrintStream out) {
    long t0 = System.nanoTime();
    Model m = r.c.build().get();
    r.buildMs = (System.nanoTime() - t0) / 1e6;
    r.nodes = m.graph().getNodeCount();
    r.variables = m.variables().size();
    int warmups = r.nodes <= 3_000 ? 3 : r.nodes <= 30_000 ? 1 : 0;
    int rounds = Math.max(1, Math.min(runsCap, r.nodes <= 3_000 ? 5 : r.nodes <= 30_000 ? 3 : 1));

    if (warmups > 0) {
      // The first warm-up is the real, uninstrumented DksRewrite pipeline.
      t0 = System.nanoTime();
      Pipeline.Result plain = DksRewrite.pipeline(o).build().run(m);
      r.plainFullMs = (System.nanoTime() - t0) / 1e6;
      record(r, plain);
      for (int i = 1; i < warmups; i++) {
        round(r, m, o, false);
      }
    }
    double last = 0;
    for (int i = 0; i < rounds; i++) {
      double now = System.nanoTime() / 1e9;
      if (i > 0 && now + last > deadline) {
        break; // the next round would overrun the budget: keep what was measured
      }
      System.gc();
      round(r, m, o, true);
      last = System.nanoTime() / 1e9 - now;
      r.rounds++;
    }
    out.printf(Locale.ROOT, "  %-30s %7d nodes -> %6d, built in %5.0f ms, %d round(s): "
            + "full %8.1f ms, no-TF %7.1f ms, import %6.1f ms, GC in full %6.1f ms%n",
        r.c.label(), r.nodes, r.nodesAfter, r.buildMs, r.rounds, r.full.wall(), r.noTf.wall(),
        r.imp.wall(), HarnessSupport.median(r.gcFullMs));
  }

  private static void record(Result r, Pipeline.Result done) {
    r.nodesAfter = done.model().graph().getNodeCount();
    done.outcomes().forEach(p -> r.changes.put(p.pass(), p.changes()));
  }

  /** One round: import, full, no-TF, each on the same input model. */
  private static void round(Result r, Model m, RewriteOptions o, boolean keep) {
    Times imp = keep ? r.imp : new Times();
    importMs(m, imp);

    Instrumented full = RewriteTiming.full(o);
    long gc0 = gcMillis();
    long c0 = RewriteTiming.cpuNanos();
    long t0 = System.nanoTime();
    Pipeline.Result done = full.pipeline().run(m);
    long fullWall = System.nanoTime() - t0;
    long fullCpu = RewriteTiming.cpuNanos() - c0;
    long fullGc = gcMillis() - gc0;
    record(r, done);
    done = null;

    Instrumented noTf = RewriteTiming.structuralOnly(o);
    gc0 = gcMillis();
    c0 = RewriteTiming.cpuNanos();
    t0 = System.nanoTime();
    noTf.pipeline().run(m);
    long noTfWall = System.nanoTime() - t0;
    long noTfCpu = RewriteTiming.cpuNanos() - c0;
    long noTfGc = gcMillis() - gc0;
    if (!keep) {
      return;
    }
    r.full.add(fullWall, fullCpu);
    r.noTf.add(noTfWall, noTfCpu);
    r.gcFullMs.add((double) fullGc);
    r.gcNoTfMs.add((double) noTfGc);
    for (TimedPass p : noTf.passes()) {
      r.pass.computeIfAbsent(p.name(), k -> new Times()).add(p.nanos, p.cpu);
    }
    for (TimedPass p : full.passes()) {
      r.passInFull.computeIfAbsent(p.name(), k -> new Times()).add(p.nanos, p.cpu);
    }
    for (TimedVerifier v : full.verifiers()) {
      r.verifier.computeIfAbsent(v.label, k -> new Times()).add(v.nanos, v.cpu);
      r.verifierCalls.put(v.label, v.calls);
    }
    TimedVerifier sv = noTf.verifiers().get(0);
    String label = "(no-TF run) " + sv.label;
    r.verifier.computeIfAbsent(label, k -> new Times()).add(sv.nanos, sv.cpu);
    r.verifierCalls.put(label, sv.calls);
  }

  /** Imports the model's GraphDef into a fresh TF graph; closing the graph is not counted. */
  private static void importMs(Model m, Times into) {
    try (Graph g = new Graph()) {
      long c0 = RewriteTiming.cpuNanos();
      long t0 = System.nanoTime();
      g.importGraphDef(m.graph());
      into.add(System.nanoTime() - t0, RewriteTiming.cpuNanos() - c0);
    }
  }

  private static long gcMillis() {
    long t = 0;
    for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans()) {
      t += Math.max(0, b.getCollectionTime());
    }
    return t;
  }

  private static void printSummary(List<Result> results, PrintStream out) {
    out.println("Rewrite time, median of the measured rounds: wall ms, wall and CPU µs per input "
        + "node, growth of the per-node cost (wall/CPU) over the previous size of the family "
        + "(1.0 linear, 10 quadratic for 10x the nodes)");
    String fmt = "%-9s %-25s %6s %5s | %8s %5s %5s %9s | %7s %5s %5s %9s | %6s %5s %5s %9s "
        + "| %5s %6s %4s%n";
    String head = String.format(Locale.ROOT, fmt, "family", "graph", "nodes", "after",
        "full ms", "µs/n", "cpu/n", "growth", "no-TF", "µs/n", "cpu/n", "growth", "import",
        "µs/n", "cpu/n", "growth", "full/", "GC ms", "<1s");
    out.print(head);
    out.printf(Locale.ROOT, fmt, "", "", "", "", "", "", "", "wall/cpu", "ms", "", "", "wall/cpu",
        "ms", "", "", "wall/cpu", "imp", "(full)", "");
    out.println("-".repeat(head.length() - 1));
    Result prev = null;
    for (Result r : results) {
      if (!r.measured()) {
        out.printf(Locale.ROOT, "%-9s %-25s %6s %5s | %s%n", r.c.family(), r.c.label(),
            r.nodes == 0 ? "-" : r.nodes, "-", r.error == null ? "not measured" : r.error);
        prev = null;
        continue;
      }
      Result p = prev != null && prev.c.family().equals(r.c.family()) ? prev : null;
      out.printf(Locale.ROOT, fmt, r.c.family(), r.c.label(), r.nodes, r.nodesAfter,
          f1(r.full.wall()), f1(r.perNodeUs(r.full.wall())), f1(r.perNodeUs(r.full.cpu())),
          growth(p, r, x -> x.full),
          f1(r.noTf.wall()), f1(r.perNodeUs(r.noTf.wall())), f1(r.perNodeUs(r.noTf.cpu())),
          growth(p, r, x -> x.noTf),
          f1(r.imp.wall()), f1(r.perNodeUs(r.imp.wall())), f1(r.perNodeUs(r.imp.cpu())),
          growth(p, r, x -> x.imp),
          f1(r.full.wall() / r.imp.wall()), String.format(Locale.ROOT, "%.0f",
              HarnessSupport.median(r.gcFullMs)),
          r.nodes >= 5_000 && r.nodes <= 20_000 ? (r.full.wall() < 1000 ? "yes" : "NO") : "");
      prev = r;
    }
  }

  /** Per family: each pass's and verifier's CPU µs per input node and its growth. */
  private static void printPasses(List<Result> results, PrintStream out) {
    out.println("Per pass (no-TF runs) and per verifier (full runs, all calls summed): CPU µs "
        + "per input node (median), its growth over the previous size, and the wall ms at the "
        + "largest size; '!' marks growth > 1.5 at more than 1 µs/node");
    Map<String, List<Result>> byFamily = new LinkedHashMap<>();
    for (Result r : results) {
      if (r.measured()) {
        byFamily.computeIfAbsent(r.c.family(), k -> new ArrayList<>()).add(r);
      }
    }
    for (Map.Entry<String, List<Result>> e : byFamily.entrySet()) {
      List<Result> rs = e.getValue();
      StringBuilder h = new StringBuilder(String.format(Locale.ROOT, "%-44s", e.getKey()));
      for (Result r : rs) {
        h.append(String.format(Locale.ROOT, " %7s", shortSize(r.nodes)));
      }
      for (int i = 1; i < rs.size(); i++) {
        h.append(String.format(Locale.ROOT, " %11s", shortSize(rs.get(i).nodes) + "/"
            + shortSize(rs.get(i - 1).nodes)));
      }
      h.append(String.format(Locale.ROOT, " %9s", "wall ms"));
      out.println();
      out.println(h);
      Result largest = rs.get(rs.size() - 1);
      List<String> passes = new ArrayList<>(largest.pass.keySet());
      rs.forEach(r -> r.pass.keySet().stream().filter(k -> !passes.contains(k))
          .forEach(passes::add));
      for (String pass : passes) {
        printRow(out, "pass " + pass, rs, r -> r.pass.get(pass));
      }
      for (String v : largest.verifier.keySet()) {
        Integer calls = largest.verifierCalls.get(v);
        printRow(out, v + (calls == null ? "" : " x" + calls), rs, r -> r.verifier.get(v));
      }
      printRow(out, "sum of the passes (no-TF)", rs, r -> {
        Times t = new Times();
        t.wall.add(r.pass.values().stream().mapToDouble(Times::wall).sum());
        t.cpu.add(r.pass.values().stream().mapToDouble(Times::cpu).sum());
        return t;
      });
    }
  }

  private static void printRow(PrintStream out, String label, List<Result> rs,
      Function<Result, Times> f) {
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "  %-42s", label));
    double[] perNode = new double[rs.size()];
    for (int i = 0; i < rs.size(); i++) {
      Times t = f.apply(rs.get(i));
      perNode[i] = t == null || t.isEmpty() ? Double.NaN : rs.get(i).perNodeUs(t.cpu());
      sb.append(String.format(Locale.ROOT, " %7.2f", perNode[i]));
    }
    for (int i = 1; i < rs.size(); i++) {
      double g = perNode[i] / perNode[i - 1];
      sb.append(String.format(Locale.ROOT, " %10.2f%s", g,
          g > 1.5 && perNode[i] > 1 ? "!" : " "));
    }
    Times last = f.apply(rs.get(rs.size() - 1));
    sb.append(String.format(Locale.ROOT, " %9.1f",
        last == null || last.isEmpty() ? Double.NaN : last.wall()));
    out.println(sb);
  }

  private static String growth(Result prev, Result r, Function<Result, Times> t) {
    if (prev == null) {
      return "";
    }
    double w = r.perNodeUs(t.apply(r).wall()) / prev.perNodeUs(t.apply(prev).wall());
    double c = r.perNodeUs(t.apply(r).cpu()) / prev.perNodeUs(t.apply(prev).cpu());
    return String.format(Locale.ROOT, "%.2f/%.2f", w, c);
  }

  private static String f1(double v) {
    return String.format(Locale.ROOT, "%.1f", v);
  }

  private static String shortSize(int n) {
    return n >= 1000 ? String.format(Locale.ROOT, "%.1fk", n / 1000.0) : Integer.toString(n);
  }

  private static List<Map<String, Object>> jsonRows(List<Result> results) {
    List<Map<String, Object>> rows = new ArrayList<>();
    for (Result r : results) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("family", r.c.family());
      m.put("graph", r.c.label());
      m.put("targetNodes", r.c.target());
      m.put("nodes", r.nodes);
      m.put("nodesAfter", r.nodesAfter);
      m.put("variables", r.variables);
      m.put("buildMs", r.buildMs);
      m.put("rounds", r.rounds);
      m.put("error", r.error);
      m.put("plainDksRewriteMs", Double.isNaN(r.plainFullMs) ? null : r.plainFullMs);
      m.put("full", r.full.json());
      m.put("noTf", r.noTf.json());
      m.put("import", r.imp.json());
      m.put("gcInFullMs", r.gcFullMs);
      m.put("gcInNoTfMs", r.gcNoTfMs);
      m.put("passes", json(r.pass));
      m.put("passesInFull", json(r.passInFull));
      m.put("verifiers", json(r.verifier));
      m.put("verifierCalls", r.verifierCalls);
      m.put("changes", r.changes);
      rows.add(m);
    }
    return rows;
  }

  private static Map<String, Object> json(Map<String, Times> m) {
    Map<String, Object> out = new LinkedHashMap<>();
    m.forEach((k, v) -> out.put(k, v.json()));
    return out;
  }
}
