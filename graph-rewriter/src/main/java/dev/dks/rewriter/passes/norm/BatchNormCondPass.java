package dev.dks.rewriter.passes.norm;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.RewriteContext;
import dev.dks.rewriter.pipeline.RewritePass;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.tensorflow.proto.NodeDef;

/**
 * "bn-cond": resolves each batch-norm statistic behind a TF1 {@code tf.cond} on a training flag
 * ({@link BatchNormCondMatcher}) to its inference branch, the moving average: the Merge's readers
 * read the stored statistic instead, and the Merge, its Switches, the batch moments and the cond's
 * predicate Switch (once nothing reads them) are removed. What remains is the batch norm in its
 * inference form, which strip-norm then removes like any other; without this pass body-check
 * refuses the cond (TensorFlow has no gradient for Switch/Merge).
 *
 * <p>The inference branch is the one a served model takes (the flag false, or defaulted to false
 * by a {@code PlaceholderWithDefault}), so the rewritten graph computes what the model serves.
 * The flag placeholder itself stays (the signature may name it). A cond that is not such a
 * statistic (dropout, a computed predicate, whole layers in each branch) is left alone.
 */
public final class BatchNormCondPass implements RewritePass {
  /** The pass name. */
  public static final String NAME = "bn-cond";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "batch-norm statistics behind a tf.cond on a training flag become the moving averages"
        + " (the inference branch)";
  }

  @Override
  public PassOutcome run(RewriteContext ctx) {
    GraphView g = ctx.graph();
    List<BatchNormCond> found = new BatchNormCondMatcher(g).find();
    if (found.isEmpty()) {
      return new PassOutcome(NAME, 0, List.of("no batch-norm statistic behind a training tf.cond"));
    }
    Set<String> remove = new LinkedHashSet<>();
    Set<String> flags = new LinkedHashSet<>();
    Set<String> scopes = new LinkedHashSet<>();
    List<String> notes = new ArrayList<>();
    for (BatchNormCond c : found) {
      GraphEdits.rewire(g, TensorName.of(c.merge()), c.inference(), c.nodes());
      remove.addAll(c.nodes());
      flags.add(c.flag());
      scopes.add(scope(c.merge()));
      notes.add("'" + c.merge() + "' (training flag '" + c.flag() + "') reads the moving average '"
          + c.inference() + "' instead of the batch statistic '" + c.training() + "'");
    }
    GraphEdits.removeAndPrune(ctx, remove);
    // the conds' predicate Switches (Switch(flag, flag) and its switch_t / switch_f Identities)
    // serve only the branches' control edges; in the scopes just resolved, drop the unread ones
    List<String> predicateNodes = new ArrayList<>();
    for (NodeDef n : List.copyOf(g.nodes())) {
      if (!scopes.contains(scope(n.getName())) || !flags.stream()
          .anyMatch(f -> BatchNormCondMatcher.isPredicateSwitch(g, n, f))) {
        continue;
      }
      List<String> readers = g.consumers(n.getName());
      boolean unread = readers.stream().allMatch(r -> g.get(r).getOp().equals("Identity")
          && g.consumers(r).isEmpty());
      if (unread && !ctx.outputs().contains(n.getName())) {
        predicateNodes.addAll(readers);
        predicateNodes.add(n.getName());
      }
    }
    GraphEdits.removeAndPrune(ctx, predicateNodes);
    return new PassOutcome(NAME, found.size(), notes);
  }

  /** The name scope of a node (up to its last '/'), "" at the top. */
  private static String scope(String node) {
    int i = node.lastIndexOf('/');
    return i < 0 ? "" : node.substring(0, i);
  }
}
