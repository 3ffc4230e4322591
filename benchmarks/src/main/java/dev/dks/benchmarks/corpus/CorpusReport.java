package dev.dks.benchmarks.corpus;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes the corpus run as Markdown ({@code docs/corpus.md}): the counts (with {@code dks verify}'s
 * pass / fail / could-not-check per method), the refusals grouped by cause, a table of every
 * model, and per model its constructs (op histogram), inputs and outputs, what each pass of each
 * rewrite changed, the rewrite's warm CPU time, {@code dks verify}'s verdict and c and q errors per
 * output, or the refusal.
 */
public final class CorpusReport {
  private CorpusReport() {}

  /** How many models converted, and rewrote under each method. */
  public static Map<String, Integer> counts(List<CorpusResult> results) {
    Map<String, Integer> c = new LinkedHashMap<>();
    c.put("convert", (int) results.stream().filter(r -> r.convert().ok()).count());
    for (String m : CorpusRunner.METHODS.keySet()) {
      c.put(m, (int) results.stream().filter(r -> r.rewrites().containsKey(m)
          && r.rewrites().get(m).ok()).count());
    }
    for (String m : CorpusRunner.METHODS.keySet()) {
      c.put("verify " + m, verifyExits(results, m, 0));
    }
    return c;
  }

  /** How many rewrites under {@code method} got {@code dks verify} exit {@code exit}. */
  static int verifyExits(List<CorpusResult> results, String method, int exit) {
    return (int) results.stream().filter(r -> r.rewrites().containsKey(method)
        && r.rewrites().get(method).verify() != null
        && r.rewrites().get(method).verify().exit() == exit).count();
  }

  /** How many rewrites under {@code method} got a {@code dks verify} exit other than 0 and 1. */
  static int verifyNotChecked(List<CorpusResult> results, String method) {
    return (int) results.stream().filter(r -> r.rewrites().containsKey(method)
        && r.rewrites().get(method).verify() != null
        && r.rewrites().get(method).verify().exit() != 0
        && r.rewrites().get(method).verify().exit() != 1).count();
  }

  /**
   * A refusal's cause: its message with quoted names, numbers and bracketed lists blanked, so that
   * the same refusal on different nodes groups together.
   */
  public static String cause(String message) {
    if (message == null) {
      return null;
    }
    String s = message.replaceAll("/\\S*/", "/…/").replaceAll("'[^']*'", "'…'")
        .replaceAll("\\[[^\\]]*\\]", "[…]").replaceAll("-?\\d+(\\.\\d+)?(e-?\\d+)?", "N");
    return CorpusRunner.abbreviate(s, 160);
  }

  /** The Markdown report of a run with {@link CorpusVerify#FLAGS}. */
  public static String markdown(List<CorpusResult> results, List<String> header) {
    return markdown(results, header, CorpusVerify.FLAGS);
  }

  /**
   * The Markdown report; {@code header} lines (how it was made) come first; {@code verifyFlags}
   * are the flags the run gave {@code dks verify}, named in the verify rows.
   */
  public static String markdown(List<CorpusResult> results, List<String> header,
      List<String> verifyFlags) {
    return markdown(results, header, verifyFlags, List.of());
  }

  /**
   * {@link #markdown(List, List, List)} of a partial run: {@code notReached} are the corpus models
   * the run did not get to, listed as such (with the command that finishes them).
   */
  public static String markdown(List<CorpusResult> results, List<String> header,
      List<String> verifyFlags, List<String> notReached) {
    return markdown(results, header, verifyFlags, notReached, Map.of());
  }

  /**
   * {@link #markdown(List, List, List, List)} of results gathered from runs of several code
   * commits (a results folder that combines runs): {@code commits} maps a model to the commit its
   * result was built from; when not empty, the report lists the models per commit under the
   * header, the models table gets a "code" column and each model's section says its commit (a
   * model missing from the map shows "unknown").
   */
  public static String markdown(List<CorpusResult> results, List<String> header,
      List<String> verifyFlags, List<String> notReached, Map<String, String> commits) {
    String flags = CorpusVerify.describe(verifyFlags);
    StringBuilder b = new StringBuilder("# The rewrite corpus\n\n");
    header.forEach(h -> b.append(h).append('\n'));
    Map<String, Integer> counts = counts(results);
    if (!commits.isEmpty()) {
      Map<String, List<String>> byCommit = new TreeMap<>();
      results.forEach(r -> byCommit.computeIfAbsent(commit(commits, r.name()),
          k -> new ArrayList<>()).add(r.name()));
      b.append("\n**Code per row**: ");
      List<String> parts = new ArrayList<>();
      byCommit.forEach((c, names) -> parts.add("commit " + c + " (" + names.size() + " models: "
          + String.join(", ", names) + ")"));
      b.append(String.join("; ", parts)).append(".\n");
    }
    if (!notReached.isEmpty()) {
      b.append("\n**Not reached** (").append(notReached.size()).append(" of ")
          .append(results.size() + notReached.size()).append(" models; the counts below are of ")
          .append(results.size()).append("): ").append(String.join(", ", notReached))
          .append(". To finish them and regenerate this page from the same results folder: "
              + "`benchmarks/run-corpus.sh --results DIR")
          .append(verifyFlags.isEmpty() ? " --verify-flags default" : "")
          .append("` (the folder of the run that made it; models already there are skipped).\n");
    }
    b.append("\n## Counts\n\n| step | passing of ").append(results.size())
        .append(notReached.isEmpty() ? "" : " reached").append(" |\n|---|---|\n");
    counts.forEach((k, v) -> b.append("| ").append(k.equals("convert") ? "convert"
        : k.startsWith("verify ") ? "verify passes (" + flags
        + "), " + k.substring(7) : "rewrite, " + k).append(" | ").append(v).append(" |\n"));

    b.append("\n`dks verify` (").append(flags)
        .append(") on the rewrites that pass (a weak pass is a pass whose allowance was wider "
            + "than its tolerance, verify's `weak_pass`: errors up to that allowance pass "
            + "unseen):\n\n| method | pass (exit 0) | of which weak pass | FAIL (exit 1) | "
            + "could not check (exit 2) | not run (rewrite failed) |\n|---|---|---|---|---|---|\n");
    for (String m : CorpusRunner.METHODS.keySet()) {
      int run = (int) results.stream().filter(r -> r.rewrites().containsKey(m)
          && r.rewrites().get(m).verify() != null).count();
      int weak = (int) results.stream().filter(r -> r.rewrites().containsKey(m)
          && r.rewrites().get(m).verify() != null && r.rewrites().get(m).verify().exit() == 0
          && r.rewrites().get(m).verify().weakPass()).count();
      b.append("| ").append(m).append(" | ").append(verifyExits(results, m, 0)).append(" | ")
          .append(weak).append(" | ").append(verifyExits(results, m, 1)).append(" | ")
          .append(verifyNotChecked(results, m))
          .append(" | ").append(results.size() - run).append(" |\n");
    }
    b.append("\n## Failures by cause\n\n| step | models | cause (names and numbers blanked) |\n"
        + "|---|---|---|\n");
    Map<String, List<String>> byCause = new TreeMap<>();
    for (CorpusResult r : results) {
      if (!r.convert().ok()) {
        byCause.computeIfAbsent("convert\u0000" + cause(r.convert().error()),
            k -> new ArrayList<>()).add(r.name());
      }
      r.rewrites().forEach((m, w) -> {
        if (!w.ok()) {
          byCause.computeIfAbsent(m + "\u0000" + cause(w.error()), k -> new ArrayList<>())
              .add(r.name());
        }
      });
    }
    byCause.forEach((k, names) -> {
      String[] parts = k.split("\u0000", 2);
      b.append("| ").append(parts[0]).append(" | ").append(names.size()).append(": ")
          .append(String.join(", ", names)).append(" | ").append(md(parts[1])).append(" |\n");
    });

    b.append("\n## Verify failures\n\nEvery `dks verify` FAIL (or could-not-check) with verify's "
        + "reason: where it judged, the measured against the predicted value and the allowed "
        + "error.\n\n| model | method | exit | reason |\n|---|---|---|---|\n");
    for (CorpusResult r : results) {
      r.rewrites().forEach((m, w) -> {
        if (w.verify() != null && w.verify().exit() != 0) {
          b.append("| ").append(r.name()).append(" | ").append(m).append(" | ")
              .append(w.verify().exit()).append(" | ")
              .append(md(CorpusRunner.abbreviate(String.valueOf(w.verify().reason()), 400)))
              .append(" |\n");
        }
      });
    }

    b.append("\n## Models\n\nPer rewrite: the outcome, its warm CPU ms (rewriting thread / "
        + "whole process; the wall ms of the first run when not measured) and the `dks verify` "
        + "verdict.\n\n| model | nodes | convert (max rel. diff) | read ms |");
    CorpusRunner.METHODS.keySet().forEach(m -> b.append(' ').append(m).append(" |"));
    b.append(commits.isEmpty() ? "" : " code |");
    b.append("\n|---|---|---|---|");
    CorpusRunner.METHODS.keySet().forEach(m -> b.append("---|"));
    b.append(commits.isEmpty() ? "" : "---|");
    b.append('\n');
    for (CorpusResult r : results) {
      b.append("| ").append(r.name()).append(" | ").append(r.nodes()).append(" | ")
          .append(r.convert().ok() ? String.format(Locale.ROOT, "ok (%.1e)",
              r.convert().maxRelativeDifference()) : "FAIL").append(" | ")
          .append(String.format(Locale.ROOT, "%.0f", r.convert().readMs())).append(" |");
      for (String m : CorpusRunner.METHODS.keySet()) {
        CorpusResult.Rewrite w = r.rewrites().get(m);
        b.append(' ').append(w == null ? "-" : (w.ok() ? "ok" : "refused") + " ("
            + time(w) + ")" + verdict(w.verify())).append(" |");
      }
      b.append(commits.isEmpty() ? "" : " " + commit(commits, r.name()) + " |");
      b.append('\n');
    }
    for (String n : notReached) {
      b.append("| ").append(n).append(" | not reached | | |");
      CorpusRunner.METHODS.keySet().forEach(m -> b.append(" not reached |"));
      b.append(commits.isEmpty() ? "" : " |");
      b.append('\n');
    }

    b.append("\n## Per model\n");
    for (CorpusResult r : results) {
      b.append("\n### ").append(r.name()).append("\n\n");
      if (!commits.isEmpty()) {
        b.append("- code: commit ").append(commit(commits, r.name())).append('\n');
      }
      b.append("- inputs: ").append(md(String.join(", ", r.inputs()))).append('\n');
      b.append("- outputs: ").append(md(String.join(", ", r.outputs()))).append('\n');
      List<String> ops = new ArrayList<>();
      r.ops().forEach((op, n) -> ops.add(op + " " + n));
      b.append("- ops (").append(r.nodes()).append(" nodes; Const/Identity not listed): ")
          .append(md(String.join(", ", ops))).append('\n');
      b.append("- convert: ").append(r.convert().ok() ? String.format(Locale.ROOT,
          "ok, outputs equal the read graph's (max relative difference %.1e), read %.0f ms, "
          + "export %.0f ms", r.convert().maxRelativeDifference(), r.convert().readMs(),
          r.convert().convertMs()) : "FAILED: " + md(r.convert().error())).append('\n');
      r.convert().warnings().forEach(w -> b.append("  - reader: ")
          .append(md(CorpusRunner.abbreviate(w, 200))).append('\n'));
      r.rewrites().forEach((m, w) -> {
        b.append("- rewrite ").append(m).append(w.warm().measured()
            ? String.format(Locale.ROOT, " (warm CPU %.0f ms of the rewriting thread, %.0f ms of "
                + "the process; first run %.0f ms wall): ", w.warm().threadCpuMs(),
                w.warm().processCpuMs(), w.ms())
            : String.format(Locale.ROOT, " (%.0f ms wall): ", w.ms()));
        b.append(w.ok() ? "ok, every output keeps its dtype and shape and is finite"
            : "REFUSED: " + md(w.error())).append('\n');
        w.passes().forEach(p -> b.append("  - ").append(md(p)).append('\n'));
        CorpusResult.Verify v = w.verify();
        if (v != null) {
          CorpusResult.OutputVerdict worstLog = v.outputs().stream()
              .filter(o -> o.logQError() != null).max((x, y) -> Double.compare(
                  x.logQError(), y.logQError())).orElse(null);
          b.append(String.format(Locale.ROOT, "  - verify (exit %d, %.0f ms): %s, largest c "
              + "error %.4f, q error %.4f%s%s%n", v.exit(), v.ms(),
              v.exit() == 0 ? (v.weakPass() ? "weak pass" : "pass")
              : v.exit() == 1 ? "FAIL" : "NOT CHECKED", v.maxCError(), v.maxQError(),
              logQ(worstLog),
              v.reason() == null ? "" : "; " + md(CorpusRunner.abbreviate(v.reason(), 200))));
          // per output when there are several (one output's verdict is the line above)
          for (CorpusResult.OutputVerdict o : v.outputs().size() > 1 ? v.outputs()
              : List.<CorpusResult.OutputVerdict>of()) {
            b.append("    - output ").append(md(o.output())).append(": ");
            if (!o.checked()) {
              b.append("not checked");
            } else {
              b.append(o.passed() ? "pass" : "FAIL").append(String.format(Locale.ROOT,
                  ", c error %.4f, q error %.4f", o.cError(), o.qError())).append(logQ(o));
            }
            b.append(o.note() == null ? "" : "; " + md(CorpusRunner.abbreviate(o.note(), 160)))
                .append('\n');
          }
        }
      });
    }
    return b.toString();
  }

  /**
   * ", judged by log q: error E (allowed A), predicted q P" when {@code o}'s q was judged by log q
   * (the verdict compares that error, not the q error, which scales with the predicted q), else
   * "".
   */
  static String logQ(CorpusResult.OutputVerdict o) {
    if (o == null || o.logQError() == null) {
      return "";
    }
    return String.format(Locale.ROOT, " (q judged by log q: log q error %.4f, allowed %.4f%s)",
        o.logQError(), o.logQAllowed() == null ? Double.NaN : o.logQAllowed(),
        o.predictedQ() == null ? "" : String.format(Locale.ROOT, ", predicted q %.4g",
            o.predictedQ()));
  }

  /** The commit of {@code name}'s result, "unknown" when not known. */
  private static String commit(Map<String, String> commits, String name) {
    String c = commits.get(name);
    return c == null ? "unknown" : c;
  }

  /** "thread / process ms" of the warm run, or the first run's "N ms wall". */
  private static String time(CorpusResult.Rewrite w) {
    return w.warm().measured() ? String.format(Locale.ROOT, "%.0f / %.0f ms",
        w.warm().threadCpuMs(), w.warm().processCpuMs())
        : String.format(Locale.ROOT, "%.0f ms wall", w.ms());
  }

  /**
   * ", verify pass" / ", verify weak pass" / ", verify FAIL" / ", verify exit 2" for the table,
   * "" when not run.
   */
  private static String verdict(CorpusResult.Verify v) {
    return v == null ? "" : v.exit() == 0 ? (v.weakPass() ? ", verify weak pass"
        : ", verify pass") : v.exit() == 1 ? ", verify FAIL"
        : ", verify exit " + v.exit();
  }

  private static String md(String s) {
    return s == null ? "" : s.replace("|", "\\|").replace("\n", " ");
  }
}
