package dev.dks.benchmarks.corpus;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dks.cli.DksCommand;
import dev.dks.cli.RewriteOutput;
import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.pipeline.Pipeline;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;

/**
 * {@code dks verify} on a corpus rewrite, through the command line's own code: the pipeline's
 * result is written as {@code dks rewrite --out} writes it ({@link RewriteOutput}, with the
 * shaping record), then {@code dks verify DIR --json} runs in-process ({@link
 * DksCommand#newCommandLine()}) with the given flags ({@link #FLAGS} by default, or {@link
 * #DEFAULTS}: none, what a user running {@code dks verify MODEL} gets), and its exit code and JSON
 * are read.
 */
final class CorpusVerify {
  /**
   * The corpus run's verify flags: 8 input pairs per input c and one weight draw (the model's
   * own), far fewer than the defaults (128 pairs, up to 24 draws chosen from the widths), so that
   * the 56 checks stay affordable in CI: with 16 pairs over 2 draws one check of blazepose-full
   * took minutes of a loaded machine. The verdicts are therefore noisier than a user's run with
   * the defaults: 8 pairs measure c to about 0.02, and with one draw a narrow network's
   * finite-width q deviation is judged against the plain q tolerance.
   */
  static final List<String> FLAGS = List.of("--pairs", "8", "--draws", "1");

  /** No extra flags: verify's own defaults, the verdict a user gets (slower, for the report). */
  static final List<String> DEFAULTS = List.of();

  /** How {@code flags} reads in the report: the flags, or "its default flags" when none. */
  static String describe(List<String> flags) {
    return flags.isEmpty() ? "its default flags" : String.join(" ", flags);
  }

  private CorpusVerify() {}

  /** Writes {@code r} into {@code dir} and runs verify on it with {@link #FLAGS}. */
  static CorpusResult.Verify run(Pipeline.Result r, RewriteOptions options, Path dir) {
    return run(r, options, dir, FLAGS);
  }

  /** Writes {@code r} into {@code dir} and runs verify on it with {@code flags}. */
  static CorpusResult.Verify run(Pipeline.Result r, RewriteOptions options, Path dir,
      List<String> flags) {
    long t0 = System.nanoTime();
    try {
      RewriteOutput.write(r, options, dir);
    } catch (RuntimeException e) {
      return new CorpusResult.Verify(2, false, false, Double.NaN, Double.NaN,
          "writing the rewrite failed: " + CorpusRunner.firstLine(e), ms(t0), List.of());
    }
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = DksCommand.newCommandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    List<String> args = new ArrayList<>(List.of("verify", dir.toString(), "--json"));
    args.addAll(flags);
    int exit = cl.execute(args.toArray(String[]::new));
    double ms = ms(t0);
    if (exit != 0 && exit != 1) {
      return new CorpusResult.Verify(exit, false, false, Double.NaN, Double.NaN,
          CorpusRunner.firstLine(new RuntimeException(err.toString().strip())), ms, List.of());
    }
    try {
      JsonNode j = new ObjectMapper().readTree(out.toString());
      double c = 0;
      double q = 0;
      List<CorpusResult.OutputVerdict> outputs = new ArrayList<>();
      for (JsonNode o : j.path("outputs")) {
        boolean checked = o.path("checked").asBoolean();
        if (checked) {
          c = Math.max(c, number(o.path("judged_c_error")));
          q = Math.max(q, number(o.path("judged_q_error")));
          JudgedQ jq = JudgedQ.of(o);
          outputs.add(new CorpusResult.OutputVerdict(o.path("output").asText(), true,
              o.path("passed").asBoolean(), number(o.path("judged_c_error")),
              number(o.path("judged_q_error")), text(o.path("reason")), jq.predictedQ(),
              jq.logQError(), jq.logQAllowed()));
        } else {
          outputs.add(new CorpusResult.OutputVerdict(o.path("output").asText(), false, false,
              Double.NaN, Double.NaN, text(o.path("not_checked"))));
        }
      }
      String reason = text(j.path("reason"));
      return new CorpusResult.Verify(exit, j.path("passed").asBoolean(),
          j.path("weak_pass").asBoolean(), c, q, reason, ms,
          outputs);
    } catch (IOException e) {
      return new CorpusResult.Verify(exit, false, false, Double.NaN, Double.NaN,
          "verify printed no JSON: " + CorpusRunner.firstLine(e), ms, List.of());
    }
  }

  /**
   * The q side of one output's verdict, from its rows at its judged tensor (verify's JSON: {@code
   * judged_tensor}, {@code rows} with {@code predicted_q}, {@code measured_log_q}, {@code
   * predicted_log_q}, {@code log_q_allowed}): the largest predicted q, and where q is judged by
   * log q the largest log q error with its allowance. Nulls when not there.
   */
  record JudgedQ(Double predictedQ, Double logQError, Double logQAllowed) {
    static JudgedQ of(JsonNode output) {
      String judged = output.path("judged_tensor").asText(null);
      Double predicted = null;
      Double logError = null;
      Double logAllowed = null;
      for (JsonNode row : output.path("rows")) {
        if (judged == null || !judged.equals(row.path("tensor").asText())
            || row.path("past_judged").asBoolean()) {
          continue;
        }
        double p = number(row.path("predicted_q"));
        if (!Double.isNaN(p) && (predicted == null || p > predicted)) {
          predicted = p;
        }
        double allowed = number(row.path("log_q_allowed"));
        if (!Double.isNaN(allowed)) {
          double e = Math.abs(number(row.path("measured_log_q"))
              - number(row.path("predicted_log_q")));
          // a NaN error is the worst: it fails
          if (logError == null || Double.isNaN(e) || e > logError) {
            logError = e;
            logAllowed = allowed;
          }
        }
      }
      return new JudgedQ(predicted, logError, logAllowed);
    }
  }

  /** A JSON text, null for null or missing. */
  private static String text(JsonNode n) {
    return n.isMissingNode() || n.isNull() ? null : n.asText();
  }

  /** A JSON number, NaN for null or a string ("NaN" is written as a string by some writers). */
  private static double number(JsonNode n) {
    return n.isNumber() ? n.asDouble() : n.isTextual() ? parse(n.asText()) : Double.NaN;
  }

  private static double parse(String s) {
    try {
      return Double.parseDouble(s);
    } catch (NumberFormatException e) {
      return Double.NaN;
    }
  }

  private static double ms(long t0) {
    return (System.nanoTime() - t0) / 1e6;
  }
}
