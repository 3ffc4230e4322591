package dev.dks.rewriter.passes.norm;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.RewriteContext;
import dev.dks.rewriter.pipeline.RewritePass;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * "strip-norm": removes every normalization {@link NormalizationMatcher} finds, in one of two
 * modes.
 *
 * <ul>
 *   <li>{@link Mode#REMOVE} (for retraining without normalization): the normalization is bypassed
 *       (its consumers read its input) and its nodes removed; the Const and variable inputs that
 *       nothing reads any more are pruned, and pruned variables leave {@link
 *       RewriteContext#variables()}. Works for inference and training forms.
 *   <li>{@link Mode#FOLD} (to keep the trained function, e.g. for serving): an inference-form
 *       normalization {@code y = gamma * (x - mean) / sqrt(var + eps) + beta} is folded into the
 *       preceding Conv2D / DepthwiseConv2dNative / MatMul's kernel and bias (a BiasAdd is added
 *       when the layer has none). Forms with batch statistics cannot be folded and are left alone
 *       with a note, as is anything whose layer, values or sharing the fold does not understand.
 * </ul>
 *
 * Matches are applied in topological order, so a normalization that reads another's output sees
 * the already rewritten graph. The outcome has one note per match saying what was done.
 */
public final class StripNormalizationPass implements RewritePass {
  /** The pass name. */
  public static final String NAME = "strip-norm";

  /** What to do with each normalization. */
  public enum Mode {
    /** Bypass and delete it (retraining). */
    REMOVE,
    /** Fold it into the preceding layer (same function; inference form only). */
    FOLD
  }

  private final Mode mode;

  /** A pass in the given mode. */
  public StripNormalizationPass(Mode mode) {
    this.mode = Objects.requireNonNull(mode);
  }

  /** The mode. */
  public Mode mode() {
    return mode;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return mode == Mode.REMOVE
        ? "remove batch / layer normalization (bypass it, prune its parameters)"
        : "fold inference-form batch normalization into the preceding layer's kernel and bias";
  }

  @Override
  public PassOutcome run(RewriteContext context) {
    GraphView g = context.graph();
    NormalizationMatcher.Result found = NormalizationMatcher.scan(g);
    List<String> notes = new ArrayList<>(found.notes());
    Map<String, Integer> order = GraphEdits.topologicalIndex(g);
    List<NormalizationMatch> matches = new ArrayList<>(found.matches());
    matches.sort(Comparator.comparingInt(m -> order.getOrDefault(m.outputNode(), 0)));
    Map<TensorName, TensorName> renamed = new HashMap<>();
    int changes = 0;
    for (NormalizationMatch m : matches) {
      try {
        notes.add(apply(context, m, renamed));
        changes++;
      } catch (Bail b) {
        notes.add("left " + m.describe() + " alone: " + b.getMessage());
      }
    }
    if (matches.isEmpty() && notes.isEmpty()) {
      notes.add("no normalization in the graph");
    }
    return new PassOutcome(NAME, changes, notes);
  }

  private String apply(RewriteContext ctx, NormalizationMatch m,
      Map<TensorName, TensorName> renamed) throws Bail {
    GraphView g = ctx.graph();
    Set<String> covered = new HashSet<>(m.nodes());
    for (String out : ctx.outputs()) {
      if (covered.contains(out)) {
        throw new Bail("its node '" + out + "' is an output of the model");
      }
    }
    for (String n : m.nodes()) {
      if (!g.contains(n)) {
        throw new Bail("its node '" + n + "' is gone (an earlier rewrite removed it)");
      }
    }
    TensorName input = m.input();
    for (int guard = 0; renamed.containsKey(input) && guard < 1000; guard++) {
      input = renamed.get(input);
    }
    TensorName replacement;
    String what;
    if (mode == Mode.FOLD) {
      if (m.batchStatistics()) {
        throw new Bail("FOLD refuses: its statistics come from the batch at run time, so there "
            + "is no fixed function to fold (use REMOVE)");
      }
      LayerFolder.Folded f = new LayerFolder(ctx).fold(m, input);
      replacement = f.replacement();
      what = f.description();
    } else {
      replacement = input;
      what = "bypassed: its consumers now read '" + input + "'";
    }
    int varsBefore = ctx.variables().size();
    GraphEdits.rewire(ctx.graph(), m.output(), replacement, covered);
    List<String> pruned = GraphEdits.removeAndPrune(ctx, m.nodes());
    renamed.put(m.output(), replacement);
    int dropped = varsBefore - ctx.variables().size();
    String verb = mode == Mode.FOLD ? "folded " : "removed ";
    return verb + m.describe() + ": " + what + "; removed " + m.nodes().size() + " node(s)"
        + (pruned.isEmpty() ? "" : ", pruned " + pruned.size() + " unused input(s) "
            + abbreviate(pruned))
        + (dropped > 0 ? ", dropped " + dropped + " variable value(s)" : "");
  }

  private static String abbreviate(List<String> names) {
    if (names.size() <= 6) {
      return names.toString();
    }
    return names.subList(0, 6) + " and " + (names.size() - 6) + " more";
  }
}
