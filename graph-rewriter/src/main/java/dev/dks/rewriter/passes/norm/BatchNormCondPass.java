package dev.dks.rewriter.passes.norm;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.RewriteContext;
import dev.dks.rewriter.pipeline.RewritePass;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.NodeDef;

/**
 * "bn-cond": resolves each batch norm behind a TF1 {@code tf.cond} on a training flag ({@link
 * BatchNormCondMatcher}) to its inference branch, the moving averages: the Merge's readers read
 * the stored statistic (unfused) or the inference FusedBatchNorm, taken out of the cond (fused),
 * instead, and the Merges, Switches, the batch moments or training FusedBatchNorm and the cond's
 * predicate Switch (once nothing reads them) are removed. What remains is the batch norm in its
 * inference form, which strip-norm then removes like any other; without this pass body-check
 * refuses the cond (TensorFlow has no gradient for Switch/Merge).
 *
 * <p>The inference branch is the one a served model takes, so the rewritten graph computes what
 * the model serves: the branch the flag's default selects when the flag is a {@code
 * PlaceholderWithDefault} (false for Keras' learning phase or a {@code training} flag, true for an
 * {@code is_inference} flag), and the stored-statistics branch, whichever Switch output it is on,
 * when the flag is a plain bool {@code Placeholder} that serving must feed. A cond whose default
 * selects the batch statistics is left alone (body-check then refuses it). The flag placeholder
 * itself stays (the signature may name it); a Merge that is an output node (a frozen graph's
 * sinks, e.g. the fused form's batch mean) stays as an Identity of its inference value. A cond
 * that is not such a statistic (dropout, a computed predicate, whole layers in each branch) is
 * left alone.
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
      return new PassOutcome(NAME, 0, List.of("no batch norm behind a training tf.cond"));
    }
    Set<String> remove = new LinkedHashSet<>();
    Set<String> flags = new LinkedHashSet<>();
    Set<String> scopes = new LinkedHashSet<>();
    List<String> notes = new ArrayList<>();
    for (BatchNormCond c : found) {
      if (c.lifted() != null) {
        lift(g, c);
      }
      for (Map.Entry<String, TensorName> m : c.merges().entrySet()) {
        if (ctx.outputs().contains(m.getKey())) {
          // an output keeps its name: an Identity of the inference value
          NodeDef merge = g.get(m.getKey());
          g.put(NodeDef.newBuilder().setName(merge.getName()).setOp("Identity")
              .addInput(m.getValue().toString()).putAttr("T", merge.getAttrOrThrow("T"))
              .setDevice(merge.getDevice()).build());
        } else {
          GraphEdits.rewire(g, TensorName.of(m.getKey()), m.getValue(), c.nodes());
        }
      }
      c.nodes().stream().filter(n -> !ctx.outputs().contains(n)).forEach(remove::add);
      flags.add(c.flag());
      c.merges().keySet().forEach(m -> scopes.add(scope(m)));
      notes.add(c.lifted() == null
          ? "'" + c.merge() + "' (training flag '" + c.flag() + "') reads the moving average '"
              + c.merges().get(c.merge()) + "' instead of the batch statistic '" + c.training()
              + "'"
          : "'" + c.merge() + "' (training flag '" + c.flag() + "') is the inference batch norm '"
              + c.lifted() + "' (moving averages) instead of the training one '"
              + c.training().node() + "'");
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

  /**
   * Makes the inference branch's node read, instead of each Switch output, the tensor that Switch
   * routes, and drops its control edges on the cond's nodes: it then runs outside the cond.
   */
  private static void lift(GraphView g, BatchNormCond c) {
    NodeDef n = g.get(c.lifted());
    NodeDef.Builder b = n.toBuilder().clearInput();
    for (String in : n.getInputList()) {
      TensorName t = TensorName.parse(in);
      NodeDef src = g.get(t.node());
      if (t.isControl() && (c.nodes().contains(t.node()) || src.getOp().equals("Identity")
          && scope(t.node()).equals(scope(c.merge())))) {
        continue;
      }
      b.addInput(!t.isControl() && src.getOp().equals("Switch")
          ? GraphEdits.dataInputs(src).get(0).toString() : in);
    }
    g.put(b.build());
  }

  /** The name scope of a node (up to its last '/'), "" at the top. */
  private static String scope(String node) {
    int i = node.lastIndexOf('/');
    return i < 0 ? "" : node.substring(0, i);
  }
}
