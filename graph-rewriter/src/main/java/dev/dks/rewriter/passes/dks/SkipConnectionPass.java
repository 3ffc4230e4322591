package dev.dks.rewriter.passes.dks;

import dev.dks.rewriter.analysis.MergeSite;
import dev.dks.rewriter.analysis.NetworkAnalysis;
import dev.dks.rewriter.analysis.StructureAnalyzer;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.pipeline.Analyses;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.RewriteContext;
import dev.dks.rewriter.pipeline.RewritePass;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;

/**
 * "skips": rewrites every residual merge found by the structure analysis (an add of two body
 * tensors of the same static shape, an AddN of k, or a chain of adds; the residual operand is the
 * deepest one). With shortcut weight w = 0 the merge is removed (its consumers read the residual
 * operand, and the other branches, if nothing else reads them, are pruned with their variables).
 * With 0 &lt; w &lt;= 1 the merge becomes the normalized sum {@code sqrt(1 - w^2) * residual +
 * w * shortcut}, for k operands {@code sqrt(1 - w^2) * residual + (w / sqrt(k - 1)) * (each
 * other operand)}: squared weights summing to 1 (Mul by constants feeding an AddV2, or an AddN
 * for k &gt; 2, that keeps the merge's name; the inner adds of a chain are pruned). A broadcasting add (operands of different
 * static shapes) is not a residual merge: it is left alone, and the outcome's notes say so.
 */
public final class SkipConnectionPass implements RewritePass {
  private final double shortcutWeight;

  /** A pass that removes skips (w = 0) or normalizes them with weight w in (0, 1]. */
  public SkipConnectionPass(double shortcutWeight) {
    if (!(shortcutWeight >= 0 && shortcutWeight <= 1)) {
      throw new IllegalArgumentException("shortcut weight must be in [0, 1] (0 removes the skip "
          + "connections), got " + shortcutWeight);
    }
    this.shortcutWeight = shortcutWeight;
  }

  @Override
  public String name() {
    return "skips";
  }

  @Override
  public String description() {
    return shortcutWeight == 0 ? "remove skip connections"
        : "turn skip connections into normalized sums with shortcut weight " + shortcutWeight;
  }

  @Override
  public PassOutcome run(RewriteContext ctx) {
    if (ctx.inputs().isEmpty()) {
      return PassOutcome.unchanged(name(), "no input nodes are known (no signature inputs)");
    }
    GraphView g = ctx.graph();
    NetworkAnalysis a = Analyses.of(ctx);
    List<String> notes = new ArrayList<>();
    int changed = 0;
    boolean chains = false;
    java.util.Map<TensorName, TensorName> replaced = new java.util.HashMap<>();
    for (MergeSite m : a.residualMerges()) {
      NodeDef add = g.get(m.node());
      DataType t = add.containsAttr("T") ? add.getAttrOrThrow("T").getType()
          : DataType.DT_FLOAT;
      int k = m.operands().size();
      chains |= !add.getInputList().stream().filter(s -> !s.startsWith("^"))
          .map(TensorName::parse).toList().containsAll(m.operands());
      if (shortcutWeight == 0) {
        // an operand may be an earlier merge this pass removed: read what replaced it
        TensorName keep = m.residual();
        while (replaced.containsKey(keep)) {
          keep = replaced.get(keep);
        }
        g.put(withControls(Nodes.op("Identity", m.node()).input(keep).type("T", t), add));
        g.bypass(m.node(), 0);
        replaced.put(TensorName.of(m.node()), keep);
        notes.add("removed the skip connection at '" + m.node() + "'"
            + (k > 2 ? " (a sum of " + k + " operands; kept '" + m.residual() + "')" : ""));
      } else {
        double rw = Math.sqrt(1 - shortcutWeight * shortcutWeight);
        double sw = shortcutWeight / Math.sqrt(k - 1);
        Nodes.Builder sum = Nodes.op(k == 2 ? "AddV2" : "AddN", m.node());
        sum.input(scaled(g, m.node() + "/dks_residual", m.residual(), rw, t));
        for (int i = 1; i < k; i++) {
          sum.input(scaled(g, m.node() + "/dks_shortcut", m.operands().get(i), sw, t));
        }
        sum.type("T", t);
        if (k > 2) {
          sum.attr("N", org.tensorflow.proto.AttrValue.newBuilder().setI(k).build());
        }
        g.put(withControls(sum, add));
        notes.add("'" + m.node() + "' is now " + rw + " * residual + "
            + (k == 2 ? shortcutWeight + " * shortcut"
                : sw + " * each of its " + (k - 1) + " other operands"));
      }
      changed++;
    }
    if (changed > 0 && (shortcutWeight == 0 || chains)) {
      int pruned = PruneSupport.pruneToOutputs(ctx);
      {
        notes.add("pruned " + pruned + " nodes of removed shortcut branches and inner adds");
      }
    }
    for (String w : a.warnings()) {
      if (w.contains(StructureAnalyzer.NOT_A_SKIP)) {
        notes.add(w);
      }
    }
    if (changed == 0) {
      notes.add("no residual merge found");
    }
    return new PassOutcome(name(), changed, notes);
  }

  /** The node built with the control inputs of {@code old}. */
  private static NodeDef withControls(Nodes.Builder b, NodeDef old) {
    NodeDef n = b.build();
    NodeDef.Builder out = n.toBuilder();
    for (String in : old.getInputList()) {
      if (in.startsWith("^")) {
        out.addInput(in);
      }
    }
    if (!old.getDevice().isEmpty()) {
      out.setDevice(old.getDevice());
    }
    return out.build();
  }

  private static TensorName scaled(GraphView g, String base, TensorName x, double w, DataType t) {
    String c = g.uniqueName(base + "/weight");
    if (t == DataType.DT_DOUBLE) {
      g.add(Nodes.constant(c, org.tensorflow.proto.TensorProto.newBuilder()
          .setDtype(DataType.DT_DOUBLE).addDoubleVal(w).build()));
    } else {
      g.add(Nodes.floatScalar(c, (float) w));
    }
    String mul = g.uniqueName(base);
    g.add(Nodes.op("Mul", mul).input(x).input(c).type("T", t).build());
    return TensorName.of(mul);
  }
}
