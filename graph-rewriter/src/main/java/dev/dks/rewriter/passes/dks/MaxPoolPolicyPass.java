package dev.dks.rewriter.passes.dks;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.RewriteContext;
import dev.dks.rewriter.pipeline.RewritePass;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.proto.NodeDef;

/**
 * "max-pool": max-pooling is outside the kernel theory of DKS/TAT; this pass replaces every {@code
 * MaxPool} by an {@code AvgPool} with the same window, strides, padding and data format (which is
 * linear, hence invisible to the kernel maps), unless asked to keep them. {@code MaxPoolV2}
 * (window as tensors) and max-pools with explicit padding (AvgPool has none) are left alone with
 * a note.
 */
public final class MaxPoolPolicyPass implements RewritePass {
  private final boolean keep;

  /** {@code keep = true} leaves max-pools as they are (the reference example keeps its stem's). */
  public MaxPoolPolicyPass(boolean keep) {
    this.keep = keep;
  }

  @Override
  public String name() {
    return "max-pool";
  }

  @Override
  public String description() {
    return keep ? "keep max-pooling" : "replace max-pooling by average pooling";
  }

  @Override
  public PassOutcome run(RewriteContext ctx) {
    GraphView g = ctx.graph();
    List<String> notes = new ArrayList<>();
    int changed = 0;
    for (NodeDef n : g.nodes()) {
      if (n.getOp().equals("MaxPool")) {
        if (keep) {
          notes.add("kept max-pool '" + n.getName() + "' (outside the kernel theory)");
          continue;
        }
        if (n.containsAttr("padding")
            && n.getAttrOrThrow("padding").getS().toStringUtf8().equals("EXPLICIT")) {
          notes.add("left max-pool '" + n.getName() + "' alone: its padding is EXPLICIT, which "
              + "AvgPool does not take");
          continue;
        }
        NodeDef.Builder b = n.toBuilder().setOp("AvgPool");
        b.removeAttr("explicit_paddings");
        g.put(b.build());
        changed++;
      } else if (n.getOp().equals("MaxPoolV2")) {
        notes.add("left MaxPoolV2 '" + n.getName() + "' alone (window given as tensors)");
      }
    }
    notes.add(changed + " max-pools replaced by average pools");
    return new PassOutcome(name(), changed, notes);
  }
}
