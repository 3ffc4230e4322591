package dev.dks.benchmarks.corpus;

import java.util.List;
import java.util.Map;

/**
 * What the corpus run found for one model.
 *
 * @param name the corpus name
 * @param nodes nodes of the graph as read (TF.js-only ops split)
 * @param ops op histogram of that graph, most frequent first (Const, Identity, NoOp left out)
 * @param inputs the signature's inputs, "key dtype[shape]"
 * @param outputs the signature's outputs, "key dtype[shape]"
 * @param convert the conversion (read, constants-to-variables, export, TF load and run)
 * @param rewrites one outcome per rewrite method, keyed "TAT" (defaults) and "DKS softplus"
 */
public record CorpusResult(String name, int nodes, Map<String, Integer> ops, List<String> inputs,
    List<String> outputs, Convert convert, Map<String, Rewrite> rewrites) {

  /**
   * The conversion of one model.
   *
   * @param ok read, exported, loaded by TensorFlow and its outputs equal the read graph's
   * @param error the reason when not ok (first line of the error), else null
   * @param readMs wall time of the read
   * @param convertMs wall time of constants-to-variables and export
   * @param maxRelativeDifference over outputs, of the SavedModel's outputs against the read
   *     graph's on the same random input (relative to max(1, max|reference|))
   * @param warnings the reader's warnings
   */
  public record Convert(boolean ok, String error, double readMs, double convertMs,
      double maxRelativeDifference, List<String> warnings) {}

  /**
   * One rewrite of one model.
   *
   * @param ok the pipeline ran and the rewritten model keeps every output's dtype and shape and
   *     computes finite values on random input
   * @param error the refusal or check failure (first line), else null
   * @param ms wall time of the rewrite pipeline (with its verifiers), its first run on the model
   * @param passes what each pass that changed something did: "pass: n changes; first note"
   * @param signatureKept every output keeps its name, dtype and shape (false when not run)
   * @param finite every output is finite on random input (false when not run)
   * @param verify {@code dks verify} on the written rewrite, or null when the rewrite failed
   * @param warm CPU time of the same rewrite run again right after (NaN fields when not measured)
   */
  public record Rewrite(boolean ok, String error, double ms, List<String> passes,
      boolean signatureKept, boolean finite, Verify verify, WarmTime warm) {}

  /**
   * CPU time of a warm rewrite: the pipeline run a second time on the same model in the same JVM
   * (after the first run, which warms the JIT and TensorFlow for this graph). CPU time, because
   * the wall time of a shared machine is mostly waiting.
   *
   * @param threadCpuMs CPU time of the rewriting thread (ThreadMXBean; TensorFlow's imports run
   *     on it)
   * @param processCpuMs CPU time of the whole process over the rewrite (all threads: dks-init's
   *     parallel sampling, GC, JIT)
   */
  public record WarmTime(double threadCpuMs, double processCpuMs) {
    /** Not measured. */
    public static final WarmTime NONE = new WarmTime(Double.NaN, Double.NaN);

    /** True when measured. */
    public boolean measured() {
      return !Double.isNaN(threadCpuMs);
    }
  }

  /**
   * {@code dks verify --json} on one written rewrite ({@link CorpusVerify}, its flags).
   *
   * @param exit the command's exit code: 0 pass, 1 the check failed, 2 it could not check
   * @param passed the JSON's verdict (false for exit 2)
   * @param weakPass the JSON's {@code weak_pass}: passed, but with an allowance wider than its
   *     tolerance, so errors up to that allowance pass unseen (false when it failed)
   * @param maxCError largest c error at the judged tensor over the checked outputs (NaN: none)
   * @param maxQError largest q error at the judged tensor over the checked outputs (NaN: none)
   * @param reason why it failed (the JSON's reason, or the error for exit 2), else null
   * @param ms wall time of writing the SavedModel and verifying it
   * @param outputs the verdict per output node, in the JSON's order (empty for exit 2)
   */
  public record Verify(int exit, boolean passed, boolean weakPass, double maxCError,
      double maxQError, String reason, double ms, List<OutputVerdict> outputs) {}

  /**
   * {@code dks verify}'s verdict on one output.
   *
   * @param output the output node
   * @param checked whether it was checked
   * @param passed its verdict (false when not checked)
   * @param cError largest c error at its judged tensor (NaN when not checked)
   * @param qError largest q error at its judged tensor (NaN when not checked)
   * @param note why it failed, or why it was not checked; null when it passed
   * @param predictedQ largest predicted q at its judged tensor (null: not recorded, as in results
   *     stored before this field, or not checked)
   * @param logQError where q is judged by log q (several weight draws): the largest |measured -
   *     predicted| mean log q at its judged tensor, which is what the verdict compares, not
   *     {@code qError} (a prediction of q 1e26 missed by a factor 2 has a q error of 1e26 and a
   *     log q error of 0.7); null when q is judged by its mean
   * @param logQAllowed the log q error allowed at that row (null with {@code logQError})
   */
  public record OutputVerdict(String output, boolean checked, boolean passed, double cError,
      double qError, String note, Double predictedQ, Double logQError, Double logQAllowed) {

    /** A verdict without the q details (results stored before them, or not checked). */
    public OutputVerdict(String output, boolean checked, boolean passed, double cError,
        double qError, String note) {
      this(output, checked, passed, cError, qError, note, null, null, null);
    }
  }
}
