package dev.dks.rewriter.pipeline;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.OpRegistry;
import dev.dks.rewriter.graph.TensorName;
import org.tensorflow.proto.NodeDef;

/**
 * Cheap checks on the GraphDef itself: every op is registered (or a function of the library),
 * every input names an existing node and an output index that node has, and every output node is
 * present. Node names are unique by construction of {@link GraphView}.
 */
public final class StructuralVerifier implements GraphVerifier {
  @Override
  public void verify(RewriteContext context, String stage) {
    GraphView g = context.graph();
    OpRegistry ops = OpRegistry.get();
    java.util.Set<String> functions = new java.util.HashSet<>();
    g.library().getFunctionList().forEach(f -> functions.add(f.getSignature().getName()));
    for (NodeDef n : g.nodes()) {
      if (!ops.contains(n.getOp()) && !functions.contains(n.getOp())) {
        throw new GraphVerificationException(stage + ": node '" + n.getName() + "' has op '"
            + n.getOp() + "', which this TensorFlow runtime does not register");
      }
      for (String in : n.getInputList()) {
        TensorName t = TensorName.parse(in);
        if (!g.contains(t.node())) {
          throw new GraphVerificationException(stage + ": node '" + n.getName() + "' ("
              + n.getOp() + ") reads '" + in + "', but no node '" + t.node() + "' exists");
        }
        if (!t.isControl()) {
          int count = ops.outputCount(g.get(t.node()));
          if (count >= 0 && t.index() >= count) {
            throw new GraphVerificationException(stage + ": node '" + n.getName() + "' ("
                + n.getOp() + ") reads output " + t.index() + " of '" + t.node() + "' ("
                + g.get(t.node()).getOp() + "), which has only " + count + " outputs");
          }
        }
      }
    }
    for (String out : context.outputs()) {
      if (!g.contains(out)) {
        throw new GraphVerificationException(stage + ": the output node '" + out
            + "' is gone from the graph");
      }
    }
  }
}
