package dev.dks.rewriter.passes.defaults;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.OpRegistry;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.RewriteContext;
import dev.dks.rewriter.pipeline.RewritePass;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.FunctionDefLibrary;
import org.tensorflow.proto.NodeDef;

/**
 * "fill-defaults": gives every node the default values of the attributes its op declares but the
 * node omits ({@link OpRegistry#withDefaults}), so that later matchers read attributes such as
 * {@code is_training}, {@code data_format} or {@code epsilon} without knowing their defaults.
 * SavedModels written with {@code strip_default_attrs=True} omit them. Nodes of functions in the
 * library get the same treatment. Nodes whose op the runtime does not register are left alone
 * (listed in the outcome's notes).
 */
public final class FillDefaultAttrsPass implements RewritePass {
  /** The pass name. */
  public static final String NAME = "fill-defaults";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "give every node the op registry's default values for the attributes it omits";
  }

  @Override
  public PassOutcome run(RewriteContext context) {
    GraphView g = context.graph();
    OpRegistry ops = OpRegistry.get();
    Set<String> functions = new HashSet<>();
    g.library().getFunctionList().forEach(f -> functions.add(f.getSignature().getName()));
    Set<String> unknown = new TreeSet<>();
    int changedNodes = 0;
    for (NodeDef n : g.nodes()) {
      NodeDef filled = fill(n, ops, functions, unknown);
      if (filled != n) {
        g.put(filled);
        changedNodes++;
      }
    }
    int changedFunctionNodes = 0;
    FunctionDefLibrary lib = g.library();
    if (lib.getFunctionCount() > 0) {
      FunctionDefLibrary.Builder lb = lib.toBuilder();
      for (int i = 0; i < lb.getFunctionCount(); i++) {
        FunctionDef.Builder fb = lb.getFunction(i).toBuilder();
        for (int j = 0; j < fb.getNodeDefCount(); j++) {
          NodeDef n = fb.getNodeDef(j);
          NodeDef filled = fill(n, ops, functions, unknown);
          if (filled != n) {
            fb.setNodeDef(j, filled);
            changedFunctionNodes++;
          }
        }
        lb.setFunction(i, fb);
      }
      if (changedFunctionNodes > 0) {
        g.setLibrary(lb.build());
      }
    }
    List<String> notes = new ArrayList<>();
    notes.add("filled default attributes on " + changedNodes + " of " + g.size() + " nodes"
        + (changedFunctionNodes > 0 ? " and on " + changedFunctionNodes + " function nodes" : ""));
    if (!unknown.isEmpty()) {
      List<String> shown = unknown.stream().limit(20).toList();
      notes.add("left alone (op not registered in this runtime, no defaults known): " + shown
          + (unknown.size() > shown.size() ? " and " + (unknown.size() - shown.size()) + " more"
              : ""));
    }
    return new PassOutcome(NAME, changedNodes + changedFunctionNodes, notes);
  }

  private static NodeDef fill(NodeDef n, OpRegistry ops, Set<String> functions,
      Set<String> unknown) {
    if (!ops.contains(n.getOp())) {
      if (!functions.contains(n.getOp())) {
        unknown.add(n.getName() + " (" + n.getOp() + ")");
      }
      return n;
    }
    return ops.withDefaults(n);
  }
}
