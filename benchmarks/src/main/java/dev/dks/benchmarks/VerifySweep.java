package dev.dks.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dks.cli.DksCommand;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * {@code dks verify MODEL} with no flags on the shaped models the tool writes (issue 12: it must
 * pass on every one). Two families of models:
 * <ul>
 *   <li>{@code dks build --shaped}: MLPs (widths 16 and 64), plain CNNs (width 16, with and
 *       without stride-2 down-sampling), ResNets v2 (shortcut weights 0 and 0.8) and v1
 *       (shortcut weight 0.5) at width 16, depth 20 or 18, each shaped by TAT (leaky ReLU and
 *       softplus) and DKS (softplus and tanh) at build seeds 0, 1 and 2; at seed 0 only, a
 *       width-64 and a depth-34 ResNet, the v1 ResNet at shortcut weight 0.8, and every other
 *       activation the CLI accepts on a width-16 MLP under DKS and TAT;</li>
 *   <li>{@code dks rewrite}: BN models {@code dks build --bn} writes, and every real model in
 *       the shared models folder ({@code --shared DIR}, default ../shared/models; see its
 *       SOURCES.txt), each rewritten by TAT (the defaults) and DKS softplus at rewrite seeds 0, 1
 *       and 2. A model the rewrite refuses (nothing to shape, an unreadable format) gets a
 *       "not rewritten" row, which is not a verify failure.</li>
 * </ul>
 * Every command runs in this process through the CLI's own code ({@link
 * DksCommand#newCommandLine()}).
 *
 * <p>Prints one row per model as it finishes, then a table: family, model, seed, verdict, the
 * judged c error with the c error allowed at that row (the tolerance or the noise-widened
 * allowance, JSON {@code c_allowed}), the judged q error with the q error allowed at that row
 * (of mean log q, marked "log", where the check judged q by it),
 * the draws x pairs the check measured, its c standard error, and the CPU seconds of the build or
 * rewrite and of the verify (process CPU time, TensorFlow's threads included); then the pass
 * counts per family. The rows also go to a JSON file ({@code --json FILE}, default
 * WORK/sweep.json).
 *
 * <p>Options: {@code --work DIR} (models are written there once and reused; default
 * benchmarks/target/verify-sweep), {@code --only REGEX} (models whose name matches), {@code
 * --seeds 0,1,2}, {@code --shared DIR}, {@code --verify "FLAGS"} (extra verify flags, e.g. {@code
 * "--draws 96 --pairs 768"} to tell noise from bias), {@code --markdown FILE}, {@code --json
 * FILE}.
 *
 * <p>Left out to keep the sweep near 15 minutes of CPU: seeds 1 and 2 of the width-64, depth-34
 * and v1 shortcut-0.8 ResNets and of the other activations; ResNet-50 at width 16 (about 30 s of
 * CPU per verify); the default widths of the CNNs (64 channels at 28x28).
 */
public final class VerifySweep {
  private VerifySweep() {}

  /**
   * One model: its family, name (seed included), the build flags (null for a shared model), the
   * shared model's path (null for a built one), the rewrite flags (null: no rewrite) and the seed.
   */
  record Case(String family, String name, List<String> build, Path source,
      List<String> rewrite, int seed) {
    /** Where the model the rewrite reads is built (BN models: once, at build seed 0). */
    String sourceName() {
      return name.replaceAll("_(TAT|DKS).*$", "") + "_src";
    }
  }

  /** The methods of the grid: method and activation. */
  private static final String[][] METHODS = {
      {"TAT", "leaky_relu"}, {"TAT", "softplus"}, {"DKS", "softplus"}, {"DKS", "tanh"}};

  /** The rewrite's methods: TAT with the defaults (no flags), DKS softplus. */
  private static final String[][] REWRITE_METHODS = {{"TAT"}, {"DKS", "softplus"}};

  /** The models of the sweep for {@code seeds}, with the shared models of {@code shared}. */
  static List<Case> cases(List<Integer> seeds, Path shared) throws IOException {
    List<Case> cs = new ArrayList<>();
    for (int seed : seeds) {
      built(cs, "mlp", "mlp20_w16", seed, "--arch", "mlp", "--depth", "20", "--width", "16");
      built(cs, "mlp", "mlp20_w64", seed, "--arch", "mlp", "--depth", "20", "--width", "64");
      built(cs, "plain-cnn", "plain-cnn20_w16", seed, "--arch", "plain-cnn", "--depth", "20",
          "--width", "16");
      built(cs, "plain-cnn", "plain-cnn20_w16_stride4", seed, "--arch", "plain-cnn", "--depth",
          "20", "--width", "16", "--pooling", "stride", "--pool-every", "4");
      for (String sw : new String[] {"0", "0.8"}) {
        built(cs, "resnet-v2", "resnet18_w16_sw" + sw, seed, "--arch", "resnet", "--depth", "18",
            "--width", "16", "--shortcut-weight", sw);
      }
      built(cs, "resnet-v1", "resnet18v1_w16_sw0.5", seed, "--arch", "resnet", "--depth", "18",
          "--width", "16", "--v1", "--shortcut-weight", "0.5");
      if (seed == seeds.get(0)) {
        built(cs, "resnet-v2", "resnet18_w64_sw0.8", seed, "--arch", "resnet", "--depth", "18",
            "--shortcut-weight", "0.8");
        built(cs, "resnet-v2", "resnet34_w16_sw0.8", seed, "--arch", "resnet", "--depth", "34",
            "--width", "16", "--shortcut-weight", "0.8");
        built(cs, "resnet-v1", "resnet18v1_w16_sw0.8", seed, "--arch", "resnet", "--depth", "18",
            "--width", "16", "--v1", "--shortcut-weight", "0.8");
        for (String act : new String[] {"sigmoid", "erf", "elu", "selu", "swish", "gelu",
            "gelu_exact", "atan", "asinh", "softsign", "bentid", "sin"}) {
          for (String m : new String[] {"DKS", "TAT"}) {
            cs.add(new Case("activations", "mlp20_w16_" + m + "_" + act + "_s" + seed,
                List.of("--arch", "mlp", "--depth", "20", "--width", "16", "--shaped",
                    "--method", m, "--activation", act), null, null, seed));
          }
        }
      }
      bn(cs, "resnet18_w16", seed, "--arch", "resnet", "--depth", "18", "--width", "16");
      bn(cs, "plain-cnn20_w16", seed, "--arch", "plain-cnn", "--depth", "20", "--width", "16");
      if (shared != null && Files.isDirectory(shared)) {
        try (var dirs = Files.list(shared)) {
          for (Path d : dirs.filter(Files::isDirectory).sorted().toList()) {
            Path src = sharedInput(d);
            for (String[] m : REWRITE_METHODS) {
              if (src != null) {
                cs.add(new Case("shared", d.getFileName() + "_" + String.join("_", m) + "_s"
                    + seed, null, src, rewriteFlags(m), seed));
              }
            }
          }
        }
      }
    }
    return cs;
  }

  /** The shaped builds of {@code build} per method of {@link #METHODS}. */
  private static void built(List<Case> cs, String family, String name, int seed,
      String... build) {
    for (String[] m : METHODS) {
      List<String> b = new ArrayList<>(List.of(build));
      b.addAll(List.of("--shaped", "--method", m[0], "--activation", m[1]));
      cs.add(new Case(family, name + "_" + m[0] + "_" + m[1] + "_s" + seed, b, null, null, seed));
    }
  }

  /** A BN model ({@code --bn}, build seed 0) rewritten per method of {@link #REWRITE_METHODS}. */
  private static void bn(List<Case> cs, String name, int seed, String... build) {
    List<String> b = new ArrayList<>(List.of(build));
    b.add("--bn");
    for (String[] m : REWRITE_METHODS) {
      cs.add(new Case("bn-rewrite", name + "_bn_" + String.join("_", m) + "_s" + seed, b, null,
          rewriteFlags(m), seed));
    }
  }

  private static List<String> rewriteFlags(String[] m) {
    return m.length == 1 ? List.of() : List.of("--method", m[0], "--activation", m[1]);
  }

  /**
   * What {@code dks rewrite} reads in a shared model folder: the folder when it holds a
   * SavedModel, else its one frozen GraphDef (.pb) or Keras .h5; null when neither.
   */
  static Path sharedInput(Path dir) throws IOException {
    if (Files.exists(dir.resolve("saved_model.pb"))
        || Files.exists(dir.resolve("saved_model.pbtxt"))) {
      return dir;
    }
    try (var files = Files.list(dir)) {
      List<Path> f = files.filter(p -> p.toString().endsWith(".pb")
          || p.toString().endsWith(".h5")).toList();
      return f.size() == 1 ? f.get(0) : null;
    }
  }

  /** Exit code, standard output and error of one in-process {@code dks} command. */
  record Run(int exit, String out, String err) {}

  static Run dks(List<String> args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = DksCommand.newCommandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int exit = cl.execute(args.toArray(String[]::new));
    return new Run(exit, out.toString(), err.toString());
  }

  private static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory
        .getOperatingSystemMXBean()).getProcessCpuTime();
  }

  /** One result: the case, its verdict, the verify's JSON (null when none) and the CPU times. */
  record Result(Case c, String verdict, JsonNode json, double makeCpu, double verifyCpu) {}

  /** Main: see the class comment for the options. */
  public static void main(String[] args) throws IOException {
    Path work = Path.of("benchmarks/target/verify-sweep");
    Pattern only = Pattern.compile(".*");
    List<String> extra = List.of();
    List<Integer> seeds = List.of(0, 1, 2);
    Path shared = Path.of("../shared/models");
    Path markdown = null;
    Path json = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--work" -> work = Path.of(args[++i]);
        case "--only" -> only = Pattern.compile(args[++i]);
        case "--verify" -> extra = Arrays.stream(args[++i].trim().split("\\s+"))
            .filter(s -> !s.isEmpty()).toList();
        case "--seeds" -> seeds = Arrays.stream(args[++i].split(","))
            .map(String::trim).map(Integer::parseInt).toList();
        case "--shared" -> shared = Path.of(args[++i]);
        case "--markdown" -> markdown = Path.of(args[++i]);
        case "--json" -> json = Path.of(args[++i]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    Files.createDirectories(work);
    json = json == null ? work.resolve("sweep.json") : json;
    List<Result> results = new ArrayList<>();
    System.out.println(HEADER);
    for (Case c : cases(seeds, shared)) {
      if (!only.matcher(c.name()).find()) {
        continue;
      }
      Result r = one(c, work, extra);
      results.add(r);
      System.out.println(row(r));
      System.out.flush();
    }
    String table = table(results);
    System.out.println();
    System.out.print(table);
    if (markdown != null) {
      Files.writeString(markdown, table);
    }
    ArrayNode arr = new ObjectMapper().createArrayNode();
    for (Result r : results) {
      arr.add(toJson(r));
    }
    Files.writeString(json, new ObjectMapper().writerWithDefaultPrettyPrinter()
        .writeValueAsString(arr) + "\n");
    System.out.println("JSON: " + json);
  }

  private static final String HEADER = "| family | model | verdict | c error | c allowed | q error "
      + "| q allowed | draws x pairs | c std error | make CPU s | verify CPU s |\n"
      + "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |";

  /** The Markdown table of {@code results}, then the pass counts per family. */
  static String table(List<Result> results) {
    StringBuilder b = new StringBuilder(HEADER).append('\n');
    for (Result r : results) {
      b.append(row(r)).append('\n');
    }
    b.append('\n').append("| family | passed | failed | verify error | not rewritten "
        + "| verify CPU s |\n| --- | ---: | ---: | ---: | ---: | ---: |\n");
    Map<String, int[]> counts = new LinkedHashMap<>();
    Map<String, Double> cpu = new LinkedHashMap<>();
    for (Result r : results) {
      int[] k = counts.computeIfAbsent(r.c().family(), f -> new int[4]);
      k[kind(r.verdict())]++;
      cpu.merge(r.c().family(), r.verifyCpu(), Double::sum);
    }
    int[] all = new int[4];
    double allCpu = 0;
    for (Map.Entry<String, int[]> e : counts.entrySet()) {
      int[] k = e.getValue();
      b.append(String.format(Locale.ROOT, "| %s | %d | %d | %d | %d | %.0f |%n", e.getKey(), k[0],
          k[1], k[2], k[3], cpu.get(e.getKey())));
      for (int i = 0; i < 4; i++) {
        all[i] += k[i];
      }
      allCpu += cpu.get(e.getKey());
    }
    b.append(String.format(Locale.ROOT, "| all | %d | %d | %d | %d | %.0f |%n", all[0], all[1],
        all[2], all[3], allCpu));
    return b.toString();
  }

  /** 0 pass, 1 fail, 2 an error (build, verify), 3 not rewritten. */
  static int kind(String verdict) {
    return verdict.equals("pass") ? 0 : verdict.equals("**fail**") ? 1
        : verdict.startsWith("not rewritten") ? 3 : 2;
  }

  /** Builds (once), rewrites (once) and verifies {@code c}. */
  private static Result one(Case c, Path work, List<String> extra) throws IOException {
    Path model = work.resolve(c.name());
    double make = 0;
    if (!Files.isDirectory(model.resolve("variables"))
        && !Files.exists(model.resolve("saved_model.pb"))) {
      long t0 = cpuNanos();
      Path src = c.source();
      if (c.build() != null) {
        Path built = c.rewrite() == null ? model : work.resolve(c.sourceName());
        if (!Files.isDirectory(built.resolve("variables"))) {
          List<String> b = new ArrayList<>(List.of("build"));
          b.addAll(c.build());
          b.addAll(List.of("--seed", c.rewrite() == null ? String.valueOf(c.seed()) : "0",
              "--out", built.toString()));
          Run r = dks(b);
          if (r.exit() != 0) {
            return new Result(c, "build error: " + firstLine(r.err()), null,
                (cpuNanos() - t0) / 1e9, 0);
          }
        }
        src = built;
      }
      if (c.rewrite() != null) {
        List<String> rw = new ArrayList<>(List.of("rewrite", src.toString()));
        rw.addAll(c.rewrite());
        rw.addAll(List.of("--seed", String.valueOf(c.seed()), "--out", model.toString()));
        Run r = dks(rw);
        if (r.exit() != 0) {
          String why = "not rewritten: " + firstLine(r.err());
          return new Result(c, why.length() > 120 ? why.substring(0, 117) + "..." : why, null,
              (cpuNanos() - t0) / 1e9, 0);
        }
      }
      make = (cpuNanos() - t0) / 1e9;
    }
    List<String> v = new ArrayList<>(List.of("verify", model.toString(), "--json"));
    v.addAll(extra);
    long t0 = cpuNanos();
    Run r = dks(v);
    double cpu = (cpuNanos() - t0) / 1e9;
    if (r.exit() > 1) {
      String why = "verify error: " + firstLine(r.err());
      return new Result(c, why.length() > 120 ? why.substring(0, 117) + "..." : why, null, make,
          cpu);
    }
    JsonNode j = new ObjectMapper().readTree(r.out());
    return new Result(c, j.path("passed").asBoolean() ? "pass" : "**fail**", j, make, cpu);
  }

  /**
   * The judged numbers of {@code j}: the largest c error and the c error allowed at its row, the
   * largest q error relative to its allowance and that allowance (of mean log q where the check
   * judged q by it), over the checked outputs' judged rows, and 1 when q was judged by log q.
   */
  static double[] judged(JsonNode j) {
    double c = 0;
    double cAllowed = Double.NaN;
    double q = 0;
    double qAllowed = Double.NaN;
    double qWorst = -1;
    boolean logJudged = false;
    for (JsonNode o : j.path("outputs")) {
      if (!o.path("checked").asBoolean()) {
        continue;
      }
      String judged = o.path("judged_tensor").asText();
      for (JsonNode row : o.path("rows")) {
        if (!row.path("tensor").asText().equals(judged)) {
          continue;
        }
        double ce = row.path("c_error").asDouble(Double.NaN);
        if (!(ce <= c)) {
          c = ce;
          cAllowed = row.path("c_allowed").asDouble(Double.NaN);
        }
        // q as the check judged it: by mean log q when the row says so, else by mean q
        boolean byLog = row.path("log_q_allowed").isNumber();
        double qe = byLog ? Math.abs(row.path("measured_log_q").asDouble()
            - row.path("predicted_log_q").asDouble())
            : Math.abs(row.path("measured_q").asDouble(Double.NaN)
                - row.path("predicted_q").asDouble(Double.NaN));
        double qa = byLog ? row.path("log_q_allowed").asDouble()
            : row.path("q_allowed").asDouble(Double.NaN);
        logJudged |= byLog;
        if (Double.isFinite(qe) && qe / qa > qWorst) {
          qWorst = qe / qa;
          q = qe;
          qAllowed = qa;
        }
      }
    }
    return new double[] {c, cAllowed, q, qAllowed, logJudged ? 1 : 0};
  }

  private static String row(Result r) {
    Case c = r.c();
    JsonNode j = r.json();
    if (j == null) {
      return String.format(Locale.ROOT, "| %s | %s | %s | | | | | | | %.1f | %.1f |", c.family(),
          c.name(), r.verdict(), r.makeCpu(), r.verifyCpu());
    }
    double[] k = judged(j);
    int added = j.path("added_draws").asInt(0);
    String sampling = !j.has("draws") ? "-" : (j.path("draws").asInt() - added) + " x "
        + j.path("pairs_per_draw").asInt() + (added == 0 ? ""
            : " + " + added + " x " + j.path("pairs_per_added_draw").asInt());
    String se = j.has("c_standard_error") && j.path("c_standard_error").isNumber()
        ? String.format(Locale.ROOT, "%.4f", j.path("c_standard_error").asDouble()) : "-";
    return String.format(Locale.ROOT,
        "| %s | %s | %s | %.4f | %.3f | %s%.4f | %.3f | %s | %s | %.1f | %.1f |", c.family(),
        c.name(), r.verdict(), k[0], k[1], k[4] > 0 ? "log " : "", k[2], k[3], sampling, se,
        r.makeCpu(), r.verifyCpu());
  }

  private static ObjectNode toJson(Result r) {
    ObjectNode o = new ObjectMapper().createObjectNode();
    o.put("family", r.c().family());
    o.put("model", r.c().name());
    o.put("seed", r.c().seed());
    o.put("verdict", r.verdict().replace("*", ""));
    o.put("make_cpu_s", r.makeCpu());
    o.put("verify_cpu_s", r.verifyCpu());
    if (r.json() != null) {
      double[] k = judged(r.json());
      o.put("c_error", k[0]);
      o.put("c_allowed", k[1]);
      o.put("q_error", k[2]);
      o.put("q_allowed", k[3]);
      o.put("q_judged_by_log", k[4] > 0);
      o.put("draws", r.json().path("draws").asInt());
      o.set("c_standard_error", r.json().path("c_standard_error"));
      o.set("reason", r.json().path("reason"));
    }
    return o;
  }

  private static String firstLine(String s) {
    String t = s.strip();
    int n = t.indexOf('\n');
    return (n < 0 ? t : t.substring(0, n)).replace('|', '/');
  }
}
