package dev.dks.rewriter.passes.dks;

import dev.dks.rewriter.analysis.MergeSite;
import dev.dks.rewriter.analysis.NetworkAnalysis;
import dev.dks.rewriter.analysis.StructureAnalyzer;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.RewriteContext;
import dev.dks.rewriter.pipeline.RewritePass;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;

/**
 * "skips": rewrites every residual merge found by the structure analysis. With shortcut weight w
 * = 0 the merge is removed (its consumers read the residual branch, and the shortcut branch, if
 * nothing else reads it, is pruned with its variables). With 0 &lt; w &lt;= 1 the merge becomes
 * the normalized sum {@code sqrt(1 - w^2) * residual + w * shortcut} (two Mul by constants
 * feeding the original Add, whose name is kept). A broadcasting add (operands of different
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
    NetworkAnalysis a = StructureAnalyzer.analyze(g, ctx.inputs(), ctx.outputs());
    List<String> notes = new ArrayList<>();
    int changed = 0;
    for (MergeSite m : a.residualMerges()) {
      NodeDef add = g.get(m.node());
      if (shortcutWeight == 0) {
        int keep = TensorName.parse(add.getInput(0)).equals(m.residual()) ? 0 : 1;
        g.bypass(m.node(), keep);
        notes.add("removed the skip connection at '" + m.node() + "'");
      } else {
        DataType t = add.containsAttr("T") ? add.getAttrOrThrow("T").getType()
            : DataType.DT_FLOAT;
        TensorName r = scaled(g, m.node() + "/dks_residual", m.residual(),
            Math.sqrt(1 - shortcutWeight * shortcutWeight), t);
        TensorName s = scaled(g, m.node() + "/dks_shortcut", m.shortcut(), shortcutWeight, t);
        NodeDef.Builder b = add.toBuilder().setOp("AddV2").clearInput().addInput(r.toString())
            .addInput(s.toString());
        for (String in : add.getInputList()) {
          if (in.startsWith("^")) {
            b.addInput(in);
          }
        }
        g.put(b.build());
        notes.add("'" + m.node() + "' is now " + Math.sqrt(1 - shortcutWeight * shortcutWeight)
            + " * residual + " + shortcutWeight + " * shortcut");
      }
      changed++;
    }
    if (changed > 0 && shortcutWeight == 0) {
      int pruned = PruneSupport.pruneToOutputs(ctx);
      notes.add("pruned " + pruned + " nodes of removed shortcut branches");
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
