package dev.dks.rewriter.passes.freeze;

import dev.dks.rewriter.analysis.LayerSite;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.pipeline.Analyses;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.RewriteContext;
import dev.dks.rewriter.pipeline.RewritePass;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * "constants-to-variables": in a frozen graph the weights are {@code Const} nodes; this pass turns
 * the float32 Consts that hold a layer's kernel or bias (found by the structure analysis) into
 * {@code VariableV2} nodes of the same name, shape and dtype, and moves their values into the
 * context's variables, so that the layers can be re-initialized and trained. Other Consts are left
 * alone.
 */
public final class ConstantsToVariablesPass implements RewritePass {
  @Override
  public String name() {
    return "constants-to-variables";
  }

  @Override
  public String description() {
    return "turn the Const kernels and biases of layers into VariableV2 (frozen graphs)";
  }

  @Override
  public PassOutcome run(RewriteContext ctx) {
    if (ctx.inputs().isEmpty()) {
      return PassOutcome.unchanged(name(), "no input nodes are known (no signature inputs)");
    }
    GraphView g = ctx.graph();
    Set<String> consts = new LinkedHashSet<>();
    for (LayerSite l : Analyses.of(ctx).layers()) {
      consts.add(l.kernelVariable());
      consts.add(l.biasVariable());
    }
    List<String> notes = new ArrayList<>();
    int changed = 0;
    for (String name : consts) {
      if (name.isEmpty() || !g.contains(name)) {
        continue;
      }
      NodeDef n = g.get(name);
      if (!n.getOp().equals("Const")) {
        continue;
      }
      TensorProto value = n.getAttrOrThrow("value").getTensor();
      if (value.getDtype() != DataType.DT_FLOAT) {
        notes.add("left Const '" + name + "' alone: " + value.getDtype() + ", not float32");
        continue;
      }
      g.put(Nodes.op("VariableV2", name).type("dtype", DataType.DT_FLOAT)
          .attr("shape", AttrValue.newBuilder().setShape(value.getTensorShape()).build())
          .attr("container", "").attr("shared_name", "").device(n.getDevice()).build());
      ctx.variables().put(name, value);
      changed++;
    }
    notes.add(changed + " layer constants turned into variables");
    return new PassOutcome(name(), changed, notes);
  }
}
