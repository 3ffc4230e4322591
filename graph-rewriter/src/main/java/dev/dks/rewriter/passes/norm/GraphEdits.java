package dev.dks.rewriter.passes.norm;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.pipeline.RewriteContext;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.NodeDef;

/** Graph edits shared by the normalization rewrites: rewiring, removal, dead-node pruning. */
final class GraphEdits {
  /**
   * Ops that compute a value without side effects; such a node may be pruned once nothing reads
   * it. Placeholders and stateful ops are never pruned.
   */
  static final Set<String> PURE = Set.of("Const", "Identity", "Snapshot", "StopGradient",
      "VariableV2", "Variable", "VarHandleOp", "ReadVariableOp", "Fill", "Shape", "ShapeN", "Size",
      "Rank", "StridedSlice", "Slice", "Pack", "Unpack", "Prod", "Sum", "Reshape", "Squeeze",
      "ExpandDims", "Cast", "Mul", "Add", "AddV2", "Sub", "RealDiv", "Div", "Rsqrt", "Sqrt",
      "Reciprocal", "Inv", "Neg", "Square", "SquaredDifference", "Mean", "Maximum", "Minimum",
      "Pow", "Range", "ConcatV2", "ZerosLike", "OnesLike", "BroadcastTo", "FusedBatchNorm",
      "FusedBatchNormV2", "FusedBatchNormV3", "Select", "SelectV2");

  private GraphEdits() {}

  /**
   * Makes every edge that reads {@code from} read {@code to} (data edges), and every control edge
   * on {@code from}'s node that comes from outside {@code covered} depend on {@code to}'s node.
   */
  static void rewire(GraphView g, TensorName from, TensorName to, Set<String> covered) {
    for (String c : g.consumers(from.node())) {
      if (covered.contains(c)) {
        continue;
      }
      NodeDef n = g.get(c);
      NodeDef.Builder b = n.toBuilder().clearInput();
      Set<String> controls = new HashSet<>();
      boolean changed = false;
      for (String in : n.getInputList()) {
        TensorName t = TensorName.parse(in);
        String out = in;
        if (t.isControl() && t.node().equals(from.node())) {
          out = "^" + to.node();
          changed = true;
        } else if (!t.isControl() && t.equals(from)) {
          out = to.toString();
          changed = true;
        }
        if (out.startsWith("^") && !controls.add(out)) {
          continue;
        }
        b.addInput(out);
      }
      if (changed) {
        g.put(b.build());
      }
    }
  }

  /**
   * Removes {@code names}, then prunes, starting from their inputs, every pure node that nothing
   * reads any more (together with the ops that only initialise a pruned variable), and drops the
   * values of pruned variables from the context. Never removes an output node. Returns the pruned
   * nodes (not counting {@code names}).
   */
  static List<String> removeAndPrune(RewriteContext ctx, Collection<String> names) {
    GraphView g = ctx.graph();
    Deque<String> todo = new ArrayDeque<>();
    for (String n : names) {
      if (!g.contains(n)) {
        continue;
      }
      todo.addAll(inputNodes(g.get(n)));
      removeControlUses(g, n);
      g.remove(n);
      ctx.variables().remove(n);
    }
    Set<String> outputs = new HashSet<>(ctx.outputs());
    List<String> pruned = new ArrayList<>();
    while (!todo.isEmpty()) {
      String n = todo.pop();
      if (!g.contains(n) || outputs.contains(n) || names.contains(n)) {
        continue;
      }
      NodeDef d = g.get(n);
      if (!PURE.contains(d.getOp())) {
        continue;
      }
      List<String> bookkeeping = new ArrayList<>();
      boolean live = false;
      for (String c : g.consumers(n)) {
        NodeDef cd = g.get(c);
        boolean manages = ValueSource.VARIABLE_BOOKKEEPING.contains(cd.getOp())
            && cd.getInputCount() > 0 && TensorName.parse(cd.getInput(0)).node().equals(n)
            && !hasDataConsumer(g, c);
        if (manages) {
          bookkeeping.add(c);
        } else {
          live = true;
          break;
        }
      }
      if (live) {
        continue;
      }
      for (String b : bookkeeping) {
        todo.addAll(inputNodes(g.get(b)));
        removeControlUses(g, b);
        g.remove(b);
        pruned.add(b);
      }
      todo.addAll(inputNodes(d));
      g.remove(n);
      ctx.variables().remove(n);
      pruned.add(n);
    }
    return pruned;
  }

  /** Node order in which every node comes after its inputs (cycles: remaining nodes last). */
  static Map<String, Integer> topologicalIndex(GraphView g) {
    List<NodeDef> nodes = g.nodes();
    Map<String, Integer> pending = new HashMap<>();
    Map<String, List<String>> users = new HashMap<>();
    for (NodeDef n : nodes) {
      Set<String> ins = new LinkedHashSet<>();
      for (String in : n.getInputList()) {
        String src = TensorName.parse(in).node();
        if (g.contains(src)) {
          ins.add(src);
        }
      }
      pending.put(n.getName(), ins.size());
      for (String s : ins) {
        users.computeIfAbsent(s, k -> new ArrayList<>()).add(n.getName());
      }
    }
    Map<String, Integer> index = new HashMap<>();
    Deque<String> ready = new ArrayDeque<>();
    for (NodeDef n : nodes) {
      if (pending.get(n.getName()) == 0) {
        ready.add(n.getName());
      }
    }
    while (!ready.isEmpty()) {
      String n = ready.poll();
      index.put(n, index.size());
      for (String u : users.getOrDefault(n, List.of())) {
        if (pending.merge(u, -1, Integer::sum) == 0) {
          ready.add(u);
        }
      }
    }
    for (NodeDef n : nodes) {
      index.putIfAbsent(n.getName(), index.size());
    }
    return index;
  }

  /** The data inputs of a node, skipping control edges. */
  static List<TensorName> dataInputs(NodeDef n) {
    List<TensorName> out = new ArrayList<>();
    for (String in : n.getInputList()) {
      TensorName t = TensorName.parse(in);
      if (!t.isControl()) {
        out.add(t);
      }
    }
    return out;
  }

  private static List<String> inputNodes(NodeDef n) {
    List<String> out = new ArrayList<>();
    for (String in : n.getInputList()) {
      out.add(TensorName.parse(in).node());
    }
    return out;
  }

  private static boolean hasDataConsumer(GraphView g, String node) {
    for (String c : g.consumers(node)) {
      for (String in : g.get(c).getInputList()) {
        TensorName t = TensorName.parse(in);
        if (!t.isControl() && t.node().equals(node)) {
          return true;
        }
      }
    }
    return false;
  }

  private static void removeControlUses(GraphView g, String node) {
    for (String c : g.consumers(node)) {
      NodeDef n = g.get(c);
      NodeDef.Builder b = n.toBuilder().clearInput();
      for (String in : n.getInputList()) {
        if (!in.equals("^" + node)) {
          b.addInput(in);
        }
      }
      g.put(b.build());
    }
  }
}
