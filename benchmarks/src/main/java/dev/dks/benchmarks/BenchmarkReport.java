package dev.dks.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dks.rewriter.io.AtomicFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;

/**
 * Writes the {@code BENCHMARKS.md} report of {@code benchmarks/run-all-benchmarks.sh} from the
 * JSON results of the benchmark suites run in one go: the machine (CPU, cores, memory, OS, Java
 * and TensorFlow versions), the date, a summary with each suite's headline ratio, then per suite
 * a Markdown table of the numbers it measured side by side. A suite that failed gets a section
 * saying so (exit code and the last lines of its log) and the others are reported as usual.
 *
 * <p>The tables print the numbers of the suites' JSON as they are, only rounded (see {@link
 * #num}); ratios that a suite's JSON does not hold (e.g. rewrite / TF import) are the quotient of
 * the two medians shown next to them.
 *
 * <p>Usage: {@code java -cp benchmarks.jar dev.dks.benchmarks.BenchmarkReport --out FILE
 * [--mode quick|full] [--command CMD] [--load LOADAVG] [--jsonl FILE] [--suite ID --status
 * ok|failed [--exit N] [--seconds S] [--json FILE] [--log FILE] [--run CMD] [--plot PNG]]...}.
 * Each {@code --suite} starts a suite, the options after it describe it. The report is written
 * to a temporary file next to {@code --out} and renamed onto it; {@code --jsonl} collects the
 * suites' JSON, one line each. The convergence suite's {@code --plot} is copied to {@code
 * docs/benchmarks/kfac-convergence.png} next to the report and linked from it.
 */
public final class BenchmarkReport {
  /** Where the convergence plot goes, relative to the report's folder. */
  static final String PLOT_LINK = "docs/benchmarks/kfac-convergence.png";

  private static final ObjectMapper JSON = new ObjectMapper();

  /** The machine the suites ran on. */
  record Machine(String cpu, int cores, String memory, String os, String java,
      String tensorflow, String load) {}

  /**
   * One suite's outcome: {@code json} is its result (null when it failed or wrote none), {@code
   * log} the tail of its output (shown when it failed), {@code plot} the image the report links
   * (null for none).
   */
  record Suite(String id, boolean ok, int exitCode, double seconds, String command,
      JsonNode json, String log, String plot) {
    Suite withPlot(String p) {
      return new Suite(id, ok, exitCode, seconds, command, json, log, p);
    }
  }

  /** What one suite's section shows: a title, what was measured, and its table maker. */
  private record Kind(String title, String what, Function<JsonNode, Table> table) {}

  /** A Markdown table plus the one-line headline of the summary and notes under it. */
  record Table(List<String> header, List<List<String>> rows, String headline, String note) {}

  private static final Map<String, Kind> KINDS = new LinkedHashMap<>();

  static {
    KINDS.put("solver", new Kind("Solver time per activation",
        "DKS and TAT solve time after warm-up (JMH average time, µs per solve, ± = 99.9% CI "
            + "half-width) on a 50-layer chain, and TAT on ResNet-101 v2; goal: under 2 ms.",
        BenchmarkReport::solverTable));
    KINDS.put("rewrite", new Kind("Rewrite time vs graph size",
        "The DKS/TAT rewrite (all verifiers: \"full\"; only the structural verifier: \"no-TF\") "
            + "next to TensorFlow's import of the same GraphDef; median wall ms of the measured "
            + "rounds.", BenchmarkReport::rewriteTable));
    KINDS.put("conversion", new Kind("Conversion vs TF load",
        "Convert (read + serving export) next to TensorFlow's SavedModelBundle.load of the "
            + "source (SavedModels) or of the exported SavedModel (other formats); median wall "
            + "ms; goal: within 2x.", BenchmarkReport::conversionTable));
    KINDS.put("training", new Kind("Training overhead vs TF kernel time",
        "One training step through TrainingGraph.step (Java) next to the TF kernel span of the "
            + "same step (FULL_TRACE) and a raw session run; achieved GFLOP/s next to a float32 "
            + "MatMul in the same process; goal: overhead under 5%.",
        BenchmarkReport::trainingTable));
    KINDS.put("kfac", new Kind("K-FAC vs SGD step time",
        "Mean step time over a 50-step window (medians of each step kind weighted by the "
            + "schedule), each variant in its own graph, interleaved in one process; goal: "
            + "under 1.5x SGD with inverses every 50 on the reference network (width 64, batch "
            + "128: the full run; the quick run's width 16 and batch 32 weigh the statistics' "
            + "extra backward pass more).", BenchmarkReport::kfacTable));
    KINDS.put("verify", new Kind("Kernel check (dks verify) at ImageNet shapes",
        "`dks verify` as a process with the heap capped by -Xmx (finishing proves the heap "
            + "bound) on the TAT rewrites of the Teachable Machine MobileNetV2 (224x224x3) and "
            + "of a built ResNet-50 v2 (224x224x3, 1000 classes): wall and CPU seconds, peak heap "
            + "in use seen by the GC log, peak RSS, and the 1-minute load average before and "
            + "after; goals: under 60 s on 2 cores, heap under 1 GiB. The verdict is the kernel "
            + "check's own.", BenchmarkReport::verifyTable));
    KINDS.put("convergence", new Kind("Convergence: K-FAC vs SGD (headline)",
        "Fashion-MNIST, runs interleaved step by step with equal steps; train loss = mean batch "
            + "loss of the last 20 steps; test accuracy on the whole test part; loss at equal "
            + "wall = smoothed train loss when the fastest run finished.",
        BenchmarkReport::convergenceTable));
    KINDS.put("time-to-accuracy", new Kind("Time to accuracy: plain TAT + K-FAC vs BN-ResNet "
        + "+ SGD", "`benchmarks/run-time-to-accuracy.sh` (issue 16): Fashion-MNIST, batch 128, "
            + "base width 16, runs interleaved step by step in one process; training time = the "
            + "sum of the run's own steps (evaluation excluded), CPU = process CPU time of those "
            + "steps; target = the reference run's test accuracy at its last checkpoint; a run "
            + "reaches it at its first checkpoint at or above it.",
        BenchmarkReport::timeToAccuracyTable));
  }

  private BenchmarkReport() {}

  // ------------------------------------------------------------------------------------- CLI

  public static void main(String[] args) throws IOException {
    Path out = Path.of("BENCHMARKS.md");
    String mode = "full";
    String command = "benchmarks/run-all-benchmarks.sh";
    String load = null;
    Path jsonl = null;
    List<Map<String, String>> specs = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("-h") || a.equals("--help")) {
        System.out.println("usage: BenchmarkReport --out FILE [--mode quick|full] [--command CMD]"
            + " [--load LOADAVG] [--jsonl FILE] [--suite ID --status ok|failed [--exit N]"
            + " [--seconds S] [--json FILE] [--log FILE] [--run CMD] [--plot PNG]]...");
        return;
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(a + " needs a value");
      }
      String v = args[++i];
      switch (a) {
        case "--out" -> out = Path.of(v);
        case "--mode" -> mode = v;
        case "--command" -> command = v;
        case "--load" -> load = v;
        case "--jsonl" -> jsonl = Path.of(v);
        case "--suite" -> {
          Map<String, String> s = new LinkedHashMap<>();
          s.put("id", v);
          specs.add(s);
        }
        case "--status", "--exit", "--seconds", "--json", "--log", "--run", "--plot" -> {
          if (specs.isEmpty()) {
            throw new IllegalArgumentException(a + " before any --suite");
          }
          specs.get(specs.size() - 1).put(a.substring(2), v);
        }
        default -> throw new IllegalArgumentException("unknown option " + a);
      }
    }
    List<Suite> suites = new ArrayList<>();
    for (Map<String, String> s : specs) {
      suites.add(readSuite(s));
    }
    Path dir = out.toAbsolutePath().getParent();
    List<Suite> linked = new ArrayList<>();
    for (Suite s : suites) {
      if (s.plot() != null && Files.isRegularFile(Path.of(s.plot()))) {
        AtomicFiles.copy(Path.of(s.plot()), dir.resolve(PLOT_LINK));
        s = s.withPlot(PLOT_LINK);
      } else if (s.plot() != null) {
        s = s.withPlot(null);
      }
      linked.add(s);
    }
    Machine machine = detectMachine(linked, load);
    String date = ZonedDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm z",
        Locale.ROOT));
    String md = render(machine, date, mode, command, linked);
    writeAtomically(out, md);
    if (jsonl != null) {
      writeAtomically(jsonl, jsonLines(linked));
    }
    System.out.println("report: " + out);
  }

  private static Suite readSuite(Map<String, String> s) throws IOException {
    boolean ok = "ok".equals(s.get("status"));
    JsonNode json = null;
    String logTail = "";
    String jsonFile = s.get("json");
    if (jsonFile != null && Files.isRegularFile(Path.of(jsonFile))) {
      try {
        json = JSON.readTree(Path.of(jsonFile).toFile());
      } catch (IOException e) {
        ok = false;
        logTail = "unreadable JSON result " + jsonFile + ": " + e.getMessage() + "\n";
      }
    } else if (ok) {
      ok = false;
      logTail = "no JSON result at " + jsonFile + "\n";
    }
    String log = s.get("log");
    if (log != null && Files.isRegularFile(Path.of(log))) {
      List<String> lines = Files.readAllLines(Path.of(log), StandardCharsets.UTF_8);
      logTail += String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
    }
    return new Suite(s.get("id"), ok, Integer.parseInt(s.getOrDefault("exit", ok ? "0" : "1")),
        Double.parseDouble(s.getOrDefault("seconds", "NaN")), s.get("run"), json, logTail,
        s.get("plot"));
  }

  /** The suites' JSON, one line each: {@code {"suite", "ok", "exitCode", "seconds", "result"}}. */
  static String jsonLines(List<Suite> suites) throws IOException {
    StringBuilder b = new StringBuilder();
    for (Suite s : suites) {
      ObjectNode o = JSON.createObjectNode();
      o.put("suite", s.id());
      o.put("ok", s.ok());
      o.put("exitCode", s.exitCode());
      o.put("seconds", s.seconds());
      o.set("result", s.json());
      b.append(JSON.writeValueAsString(o)).append('\n');
    }
    return b.toString();
  }

  /** Replaces {@code out} with {@code text} (UTF-8) atomically. */
  static void writeAtomically(Path out, String text) throws IOException {
    AtomicFiles.write(out, text.getBytes(StandardCharsets.UTF_8));
  }

  // --------------------------------------------------------------------------------- machine

  static Machine detectMachine(List<Suite> suites, String load) {
    String cpu = System.getProperty("os.arch");
    String mem = "?";
    try {
      for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (l.startsWith("model name")) {
          cpu = l.substring(l.indexOf(':') + 1).trim();
          break;
        }
      }
      for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (l.startsWith("MemTotal:")) {
          long kb = Long.parseLong(l.replaceAll("[^0-9]", ""));
          mem = String.format(Locale.ROOT, "%.1f GiB", kb / 1048576.0);
          break;
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux: keep the fallbacks
    }
    String os = System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
        + System.getProperty("os.arch");
    try {
      for (String l : Files.readAllLines(Path.of("/etc/os-release"))) {
        if (l.startsWith("PRETTY_NAME=")) {
          os = l.substring(12).replace("\"", "") + " (" + os + ")";
        }
      }
    } catch (IOException | RuntimeException e) {
      // keep os.name
    }
    String java = System.getProperty("java.vm.name") + " " + System.getProperty(
        "java.runtime.version");
    String tf = null;
    for (Suite s : suites) {
      if (s.json() != null && s.json().hasNonNull("tensorflow")) {
        tf = s.json().get("tensorflow").asText();
        break;
      }
    }
    String tfJava = mavenVersion("org.tensorflow", "tensorflow-core-api");
    String tensorflow = (tf == null ? "?" : tf) + " (TensorFlow Java "
        + (tfJava == null ? "?" : tfJava) + ")";
    return new Machine(cpu, Runtime.getRuntime().availableProcessors(), mem, os, java,
        tensorflow, load == null ? "?" : load);
  }

  private static String mavenVersion(String group, String artifact) {
    String res = "/META-INF/maven/" + group + "/" + artifact + "/pom.properties";
    try (InputStream in = BenchmarkReport.class.getResourceAsStream(res)) {
      if (in == null) {
        return null;
      }
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version");
    } catch (IOException e) {
      return null;
    }
  }

  // -------------------------------------------------------------------------------- markdown

  /** The whole report. */
  static String render(Machine m, String date, String mode, String command, List<Suite> suites) {
    StringBuilder b = new StringBuilder();
    b.append("# Benchmarks\n\n");
    b.append("Generated by `").append(command).append("` on ").append(date).append(". ");
    if ("quick".equals(mode)) {
      b.append("**Quick run**: every suite at its quick/small settings (smaller networks, "
          + "fewer rounds and steps), so the absolute numbers are not the reference ones; the "
          + "ratios are still measured side by side in one process per suite. Run "
          + "`benchmarks/run-all-benchmarks.sh` without `--quick` for the full settings.\n\n");
    } else {
      b.append("Full run: every suite at its default settings.\n\n");
    }
    b.append("Regenerate with `benchmarks/run-all-benchmarks.sh [--quick] [--out FILE]`; each "
        + "section names the script of its suite, which prints more detail.\n\n");

    b.append("## Machine\n\n");
    table(b, List.of("", ""), List.of(
        List.of("CPU", m.cpu()),
        List.of("cores", Integer.toString(m.cores())),
        List.of("memory", m.memory()),
        List.of("OS", m.os()),
        List.of("Java", m.java()),
        List.of("TensorFlow", m.tensorflow()),
        List.of("load average (1, 5, 15 min)", m.load())));
    b.append("\nOther work on the machine skews the absolute numbers; the suites interleave the "
        + "things they compare so that load slows them alike.\n\n");

    Map<String, Table> tables = new LinkedHashMap<>();
    Map<String, String> errors = new LinkedHashMap<>();
    for (Suite s : suites) {
      if (s.ok() && s.json() != null) {
        try {
          tables.put(s.id(), KINDS.get(s.id()).table().apply(s.json()));
        } catch (RuntimeException e) {
          errors.put(s.id(), "could not read its JSON: " + e);
        }
      }
    }

    b.append("## Summary\n\n");
    List<List<String>> rows = new ArrayList<>();
    for (Suite s : suites) {
      Kind k = kind(s.id());
      Table t = tables.get(s.id());
      String status = t != null ? "ok" : s.ok() ? "no result" : "**failed** (exit "
          + s.exitCode() + ")";
      rows.add(List.of("[" + k.title() + "](#" + anchor(k.title()) + ")", status,
          secs(s.seconds()), t == null ? "-" : t.headline()));
    }
    double total = suites.stream().mapToDouble(Suite::seconds).filter(Double::isFinite).sum();
    long failed = suites.stream().filter(s -> !tables.containsKey(s.id())).count();
    rows.add(List.of("all " + suites.size() + " suites", failed == 0 ? "ok" : failed + " failed",
        secs(total), "time of the suites in sequence, build not included"));
    table(b, List.of("suite", "status", "time s", "headline"), rows);
    b.append('\n');

    for (Suite s : suites) {
      Kind k = kind(s.id());
      b.append("## ").append(k.title()).append("\n\n");
      if (s.command() != null) {
        b.append("`").append(s.command()).append("`, ").append(secs(s.seconds()))
            .append(" s. ");
      }
      b.append(k.what()).append("\n\n");
      Table t = tables.get(s.id());
      if (t == null) {
        b.append("**This suite failed** (exit code ").append(s.exitCode()).append(
            errors.containsKey(s.id()) ? "; " + errors.get(s.id()) : "")
            .append("); no numbers from this run. Last lines of its output:\n\n```\n")
            .append(s.log() == null || s.log().isBlank() ? "(no output)" : s.log().strip())
            .append("\n```\n\n");
        continue;
      }
      table(b, t.header(), t.rows());
      b.append('\n');
      if (t.note() != null) {
        b.append(t.note()).append("\n\n");
      }
      if (s.plot() != null) {
        b.append("![").append(k.title()).append(": loss against step and wall time](")
            .append(s.plot()).append(")\n\n");
      }
    }
    return b.toString();
  }

  private static Kind kind(String id) {
    Kind k = KINDS.get(id);
    return k != null ? k : new Kind(id, "", j -> {
      throw new IllegalArgumentException("unknown suite " + id);
    });
  }

  /** GitHub's heading anchor: lower case, spaces to dashes, punctuation dropped. */
  static String anchor(String title) {
    return title.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9 \\-]", "").replace(' ', '-');
  }

  /** A cell that is a number, ratio, percentage or "-": right-aligned. */
  private static final java.util.regex.Pattern NUMERIC = java.util.regex.Pattern.compile(
      "-|[-+]?[0-9][0-9.,]*(x|%)?( ± [0-9.,]+)?");

  private static void table(StringBuilder b, List<String> header, List<List<String>> rows) {
    b.append("| ").append(String.join(" | ", header)).append(" |\n|");
    for (int i = 0; i < header.size(); i++) {
      final int col = i;
      boolean numeric = i > 0 && rows.stream().allMatch(r -> col >= r.size()
          || NUMERIC.matcher(r.get(col)).matches());
      b.append(numeric ? " ---: |" : " --- |");
    }
    b.append('\n');
    for (List<String> r : rows) {
      b.append("| ").append(String.join(" | ", r.stream().map(c -> c.replace("|", "\\|"))
          .toList())).append(" |\n");
    }
  }

  // ---------------------------------------------------------------------------------- numbers

  /**
   * A number for a table: {@code -} for null/NaN; whole numbers from 1000, one decimal from 100,
   * two from 1, three below.
   */
  static String num(double v) {
    if (!Double.isFinite(v)) {
      return "-";
    }
    double a = Math.abs(v);
    String f = a >= 1000 ? "%.0f" : a >= 100 ? "%.1f" : a >= 1 ? "%.2f" : "%.3f";
    return String.format(Locale.ROOT, f, v);
  }

  /** A ratio: two decimals and a times sign. */
  static String ratio(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.2fx", v) : "-";
  }

  /** A fraction as a percentage with two decimals. */
  static String pct(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.2f%%", 100 * v) : "-";
  }

  private static String secs(double s) {
    return Double.isFinite(s) ? String.format(Locale.ROOT, "%.0f", s) : "-";
  }

  private static double d(JsonNode n, String field) {
    JsonNode v = n.path(field);
    return v.isNumber() ? v.asDouble() : Double.NaN;
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.path(field);
    return v.isMissingNode() || v.isNull() ? "-" : v.asText();
  }

  /** The rows of a suite's JSON: the array itself, the root's "results", or the one object. */
  static List<JsonNode> rows(JsonNode json) {
    JsonNode r = json.isArray() ? json : json.has("results") ? json.get("results") : null;
    List<JsonNode> out = new ArrayList<>();
    if (r == null) {
      out.add(json);
    } else {
      r.forEach(out::add);
    }
    return out;
  }

  private static double median(JsonNode times, String field) {
    JsonNode a = times.path(field);
    List<Double> v = new ArrayList<>();
    a.forEach(x -> v.add(x.asDouble()));
    return HarnessSupport.median(v);
  }

  // ----------------------------------------------------------------------------------- suites

  static Table solverTable(JsonNode json) {
    String prefix = SolverBenchmark.class.getName() + ".";
    Map<String, SolverBenchmarkReport.Score> dks = new LinkedHashMap<>();
    Map<String, SolverBenchmarkReport.Score> tat = new LinkedHashMap<>();
    Map<String, SolverBenchmarkReport.Score> resnet = new LinkedHashMap<>();
    for (JsonNode run : rows(json)) {
      String name = run.path("benchmark").asText();
      if (!name.startsWith(prefix)) {
        continue;
      }
      SolverBenchmarkReport.Score score = SolverBenchmarkReport.score(run.path("primaryMetric"));
      JsonNode params = run.path("params");
      switch (name.substring(prefix.length())) {
        case "dks" -> dks.put(params.path("activation").asText(), score);
        case "tat" -> tat.put(params.path("activation").asText(), score);
        case "tatLeakyReluResnet101V2" ->
            resnet.put("w=" + params.path("shortcutWeight").asText("?"), score);
        default -> { }
      }
    }
    List<String> acts = new ArrayList<>(dks.keySet());
    tat.keySet().stream().filter(a -> !dks.containsKey(a)).forEach(acts::add);
    List<List<String>> rows = new ArrayList<>();
    int under = 0;
    int total = 0;
    double worst = Double.NaN;
    for (String a : acts) {
      var d = dks.get(a);
      var t = tat.get(a);
      rows.add(List.of(a + " (chain 50)", micros(d), micros(t),
          d != null && t != null ? ratio(t.micros() / d.micros()) : "-", goal(d), goal(t)));
      for (var s : new SolverBenchmarkReport.Score[] {d, t}) {
        if (s != null) {
          total++;
          under += s.underGoal() ? 1 : 0;
          worst = Double.isNaN(worst) ? s.micros() : Math.max(worst, s.micros());
        }
      }
    }
    for (var e : resnet.entrySet()) {
      var t = e.getValue();
      rows.add(List.of("leaky_relu (ResNet-101 v2, " + e.getKey() + ")", "-", micros(t), "-",
          "-", goal(t)));
      total++;
      under += t.underGoal() ? 1 : 0;
      worst = Double.isNaN(worst) ? t.micros() : Math.max(worst, t.micros());
    }
    if (rows.isEmpty()) {
      throw new IllegalArgumentException("no SolverBenchmark results");
    }
    return new Table(List.of("activation (network)", "DKS µs", "TAT µs", "TAT / DKS",
        "DKS < 2 ms", "TAT < 2 ms"), rows, under + " of " + total + " solves under 2 ms; slowest "
        + num(worst) + " µs", "'-' = not benchmarked (TAT refuses relu) or failed in the run.");
  }

  private static String micros(SolverBenchmarkReport.Score s) {
    if (s == null || !Double.isFinite(s.micros())) {
      return "-";
    }
    return Double.isFinite(s.errorMicros()) ? num(s.micros()) + " ± " + num(s.errorMicros())
        : num(s.micros());
  }

  private static String goal(SolverBenchmarkReport.Score s) {
    return s == null ? "-" : s.underGoal() ? "yes" : "**no**";
  }

  static Table rewriteTable(JsonNode json) {
    List<List<String>> rows = new ArrayList<>();
    double lo = Double.NaN;
    double hi = Double.NaN;
    String hiGraph = null;
    for (JsonNode r : rows(json)) {
      String error = text(r, "error");
      if (!"-".equals(error) || !r.path("full").path("wallMs").isArray()
          || r.path("full").path("wallMs").isEmpty()) {
        rows.add(List.of(text(r, "family"), text(r, "graph"), text(r, "nodes"), "-", "-", "-",
            "-", "-", "-", "-".equals(error) ? "not measured" : error));
        continue;
      }
      double nodes = d(r, "nodes");
      double full = median(r.path("full"), "wallMs");
      double noTf = median(r.path("noTf"), "wallMs");
      double imp = median(r.path("import"), "wallMs");
      double q = full / imp;
      if (Double.isFinite(q)) {
        lo = Double.isNaN(lo) ? q : Math.min(lo, q);
        if (Double.isNaN(hi) || q > hi) {
          hi = q;
          hiGraph = text(r, "graph");
        }
      }
      rows.add(List.of(text(r, "family"), text(r, "graph"), text(r, "nodes"), num(full),
          num(full * 1000 / nodes), num(noTf), num(imp), ratio(q), ratio(noTf / imp),
          text(r, "rounds")));
    }
    return new Table(List.of("family", "graph", "nodes", "full ms", "full µs/node", "no-TF ms",
        "TF import ms", "full / import", "no-TF / import", "rounds"), rows,
        "full rewrite / TF import " + ratio(lo) + " to " + ratio(hi)
            + (hiGraph == null ? "" : " (" + hiGraph + ")"),
        "Per-pass and per-verifier times, CPU time and growth per size: "
            + "`benchmarks/run-rewrite-benchmarks.sh`.");
  }

  static Table conversionTable(JsonNode json) {
    List<List<String>> rows = new ArrayList<>();
    double worst = Double.NaN;
    String worstModel = null;
    for (JsonNode r : rows(json)) {
      if (!"-".equals(text(r, "error"))) {
        rows.add(List.of(text(r, "model"), "-", "-", "-", "-", "-", "-", text(r, "error")));
        continue;
      }
      String ref = text(r, "reference");
      double convert = d(r.path("convert"), "medianWallMs");
      double refMs = d(r.path(ref), "medianWallMs");
      double q = d(r, "convertOverReference");
      if (Double.isFinite(q) && (Double.isNaN(worst) || q > worst)) {
        worst = q;
        worstModel = text(r, "model");
      }
      rows.add(List.of(text(r, "model"), text(r, "format"), text(r, "nodes"), num(convert),
          num(refMs), "tfLoad".equals(ref) ? "source" : "exported", ratio(q),
          Double.isFinite(q) ? (q <= 2 ? "yes" : "**no**") : "-"));
    }
    return new Table(List.of("model", "format", "nodes", "convert ms", "TF load ms", "TF loads",
        "convert / TF load", "within 2x"), rows,
        "convert / TF load at most " + ratio(worst) + (worstModel == null ? ""
            : " (" + worstModel + ")"),
        "Read, export, TF import and memory per phase: "
            + "`benchmarks/run-conversion-benchmarks.sh`.");
  }

  static Table trainingTable(JsonNode json) {
    List<List<String>> rows = new ArrayList<>();
    String headline = null;
    for (JsonNode r : rows(json)) {
      double achieved = d(r, "gflopsJava");
      double matmul = d(r, "matmulGflopsBest");
      rows.add(List.of(text(r, "network"), text(r, "batch"), text(r, "steps"),
          num(d(r, "javaStepMs")), num(d(r, "tfSpanMs")), num(d(r, "rawStepMs")),
          pct(d(r, "overheadVsSpan")), pct(d(r, "overheadVsRaw")), num(achieved), num(matmul),
          ratio(achieved / matmul)));
      if (headline == null) {
        headline = "Java overhead over TF span " + pct(d(r, "overheadVsSpan")) + "; "
            + num(achieved) + " GFLOP/s = " + ratio(achieved / matmul) + " of MatMul";
      }
    }
    return new Table(List.of("network", "batch", "steps", "Java step ms", "TF span ms",
        "raw step ms", "overhead vs span", "overhead vs raw", "GFLOP/s", "MatMul GFLOP/s",
        "achieved / MatMul"), rows, headline,
        "Java step = median of TrainingGraph.step; TF span = first kernel start to last kernel "
            + "end of the traced step; MatMul = best of the 2048^3 float32 MatMul runs.");
  }

  static Table kfacTable(JsonNode json) {
    List<List<String>> rows = new ArrayList<>();
    String headline = null;
    String network = null;
    for (JsonNode r : rows(json)) {
      rows.add(List.of(text(r, "variant"), text(r, "schedule"), num(d(r, "amortizedMs")),
          ratio(d(r, "ratioToSgd")), num(d(r, "plainMs")), num(d(r, "statsMs")),
          num(d(r, "inverseMs"))));
      if (headline == null && text(r, "variant").startsWith("K-FAC")) {
        headline = text(r, "variant") + " " + ratio(d(r, "ratioToSgd")) + " SGD step time";
      } else if (headline != null && text(r, "variant").contains("rows")) {
        // the recipe with sampled A rows: dks train's default
        headline += "; " + text(r, "variant") + " " + ratio(d(r, "ratioToSgd"));
      }
      if (network == null) {
        network = text(r, "network") + ", batch " + text(r, "batch") + ", " + text(r, "rounds")
            + " rounds";
      }
    }
    return new Table(List.of("variant", "schedule", "mean step ms", "/ SGD", "plain step ms",
        "statistics step ms", "inverse step ms"), rows, headline == null ? "-" : headline,
        "Network: " + network + ".");
  }

  static Table verifyTable(JsonNode json) {
    List<List<String>> rows = new ArrayList<>();
    double slowest = Double.NaN;
    String slowestModel = null;
    double heap = Double.NaN;
    for (JsonNode r : rows(json)) {
      if (r.has("skipped")) {
        rows.add(List.of(text(r, "model"), "-", "skipped: " + text(r, "skipped"), "-", "-", "-",
            "-", "-", "-", "-"));
        continue;
      }
      double wall = d(r, "wallSeconds");
      double peak = d(r, "peakHeapMb");
      int exit = r.path("exit").asInt(-1);
      boolean finished = exit == 0 || exit == 1;
      if (finished && (Double.isNaN(slowest) || wall > slowest)) {
        slowest = wall;
        slowestModel = text(r, "model");
      }
      if (Double.isFinite(peak) && (Double.isNaN(heap) || peak > heap)) {
        heap = peak;
      }
      JsonNode passed = r.path("passed");
      String verdict = !finished ? "**error** (exit " + exit + ")"
          : passed.isBoolean() && passed.asBoolean() ? "pass"
          : "fail (largest c error " + num(d(r, "maxCError")) + ")";
      rows.add(List.of(text(r, "model"), text(r, "structureDepth"), verdict, num(wall),
          num(d(r, "cpuSeconds")), num(peak) + " (-Xmx" + text(r, "xmx") + ")",
          num(d(r, "maxRssMb")), num(d(r, "loadBefore")) + " / " + num(d(r, "loadAfter")),
          finished ? (wall <= 60 ? "yes" : "**no**") : "-",
          finished && mebibytes(text(r, "xmx")) <= 1024 ? "yes" : "**no**"));
    }
    return new Table(List.of("model", "depth", "verdict", "wall s", "CPU s", "peak heap MB",
        "max RSS MB", "load before / after", "under 60 s", "heap under 1 GiB"), rows,
        "slowest verify " + num(slowest) + " s" + (slowestModel == null ? ""
            : " (" + slowestModel + ")") + ", peak heap " + num(heap) + " MB",
        "Wall time stretches with the load on a shared machine; CPU seconds much less. Run: "
            + "`benchmarks/run-verify-benchmarks.sh`.");
  }

  /** A JVM memory size ({@code 1g}, {@code 512m}, {@code 2048k}) in MiB; NaN when unreadable. */
  static double mebibytes(String size) {
    if (size == null || size.isEmpty()) {
      return Double.NaN;
    }
    char u = Character.toLowerCase(size.charAt(size.length() - 1));
    try {
      double v = Double.parseDouble(Character.isDigit(u) ? size
          : size.substring(0, size.length() - 1));
      return switch (u) {
        case 'g' -> v * 1024;
        case 'm' -> v;
        case 'k' -> v / 1024;
        default -> Character.isDigit(u) ? v / (1024 * 1024) : Double.NaN;
      };
    } catch (NumberFormatException e) {
      return Double.NaN;
    }
  }

  static Table convergenceTable(JsonNode json) {
    List<List<String>> rows = new ArrayList<>();
    String best = null;
    double bestAcc = Double.NaN;
    double eq = Double.NaN;
    int steps = 0;
    String batch = "-";
    for (JsonNode r : rows(json)) {
      double acc = d(r, "testAccuracy");
      if (Double.isFinite(acc) && (Double.isNaN(bestAcc) || acc > bestAcc)) {
        bestAcc = acc;
        best = text(r, "run");
      }
      eq = d(r, "equalWallSeconds");
      steps = Math.max(steps, r.path("steps").asInt());
      batch = text(r, "batch");
      String div = text(r, "diverged");
      rows.add(List.of(text(r, "run"), text(r, "steps"), num(d(r, "trainLossLast20")),
          num(acc), num(d(r, "testLoss")), num(d(r, "stepsPerSecond")),
          num(d(r, "wallSeconds")), num(d(r, "lossAtEqualWall")),
          "-".equals(div) ? "ok" : "**diverged** " + div));
    }
    return new Table(List.of("run", "steps", "train loss", "test acc", "test loss", "steps/s",
        "wall s", "loss @ " + num(eq) + " s", "status"), rows,
        best == null ? "no run finished" : "best test accuracy " + num(bestAcc) + " (" + best
            + ")", steps + " steps, batch " + batch + "; loss @ " + num(eq)
            + " s = smoothed train loss at the wall time where the fastest run finished.");
  }

  static Table timeToAccuracyTable(JsonNode json) {
    List<List<String>> rows = new ArrayList<>();
    String headline = "no run reached the target";
    String note = null;
    for (JsonNode r : rows(json)) {
      JsonNode t = r.path("timeToAccuracy");
      double steps = d(r, "steps");
      double cpu = d(r, "cpuSeconds");
      rows.add(List.of(text(r, "run"), text(r, "steps"), num(d(r, "testAccuracy")),
          t.isMissingNode() ? "-" : text(t, "reachedAtStep"),
          t.isMissingNode() ? "-" : num(d(t, "reachedWallSeconds")),
          t.isMissingNode() ? "-" : ratio(d(t, "wallRatioToReference")),
          t.isMissingNode() ? "-" : num(d(t, "reachedCpuSeconds")),
          t.isMissingNode() ? "-" : ratio(d(t, "cpuRatioToReference")),
          num(d(r, "medianStepMs")), num(steps > 0 ? 1e3 * cpu / steps : Double.NaN)));
      if (!t.isMissingNode() && note == null) {
        note = "Target: test accuracy " + num(d(t, "targetAccuracy")) + " (" + text(t,
            "targetFrom") + ").";
      }
      if (!t.isMissingNode() && r.path("run").asText().contains("K-FAC")
          && Double.isFinite(d(t, "wallRatioToReference"))) {
        headline = r.path("run").asText() + " reaches the target in "
            + ratio(d(t, "wallRatioToReference")) + " of the reference's training time";
      }
    }
    return new Table(List.of("run", "steps", "final test acc", "reaches target at step",
        "training wall s", "/ reference", "training CPU s", "/ reference", "median step ms",
        "CPU ms/step"), rows, headline, note);
  }

  /** For the tests: reads one JSON line. */
  static JsonNode parse(String line) {
    try {
      return JSON.readTree(line);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
