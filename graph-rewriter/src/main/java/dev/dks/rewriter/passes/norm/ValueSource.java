package dev.dks.rewriter.passes.norm;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * Where a constant tensor comes from once read ops are looked through ({@code Identity}, {@code
 * ReadVariableOp}, {@code Snapshot}, {@code StopGradient}): a {@code Const}, a {@code VariableV2}
 * or a resource variable ({@code VarHandleOp}).
 *
 * @param node the source node's name
 * @param kind what it is
 */
record ValueSource(String node, Kind kind) {
  /** Source kinds. */
  enum Kind { CONST, VARIABLE, RESOURCE }

  static final Set<String> READS = Set.of("Identity", "ReadVariableOp", "Snapshot",
      "StopGradient");
  /** Ops that only manage a variable's value and may be removed with it. */
  static final Set<String> VARIABLE_BOOKKEEPING = Set.of("Assign", "AssignAdd", "AssignSub",
      "AssignVariableOp", "AssignAddVariableOp", "AssignSubVariableOp", "VarIsInitializedOp",
      "IsVariableInitialized");
  /** Ops that read every variable for checkpoints; they do not make a kernel shared. */
  static final Set<String> CHECKPOINT = Set.of("SaveV2", "Save", "SaveSlices");

  /** Looks through read ops to the source of {@code t}; null when it is not a constant. */
  static ValueSource resolve(GraphView g, TensorName t) {
    TensorName cur = t;
    for (int guard = 0; guard < 64; guard++) {
      NodeDef n = g.find(cur.node()).orElse(null);
      if (n == null || cur.isControl()) {
        return null;
      }
      switch (n.getOp()) {
        case "Const":
          return cur.index() == 0 ? new ValueSource(n.getName(), Kind.CONST) : null;
        case "VariableV2":
        case "Variable":
          return new ValueSource(n.getName(), Kind.VARIABLE);
        case "VarHandleOp":
          return new ValueSource(n.getName(), Kind.RESOURCE);
        default:
          if (READS.contains(n.getOp()) && n.getInputCount() > 0) {
            cur = TensorName.parse(n.getInput(0));
            continue;
          }
          return null;
      }
    }
    return null;
  }

  /** The value: a Const's tensor or the variable's entry in {@code variables}; null if unknown. */
  TensorProto value(GraphView g, Map<String, TensorProto> variables) {
    if (kind == Kind.CONST) {
      NodeDef n = g.get(node);
      return n.containsAttr("value") ? n.getAttrOrThrow("value").getTensor() : null;
    }
    return variables.get(node);
  }

  /**
   * True when every data path from the source (through read ops) ends at {@code user}, or at
   * ops that only manage or checkpoint the variable: then changing its value changes nothing else.
   */
  boolean exclusiveTo(GraphView g, String user) {
    Deque<String> todo = new ArrayDeque<>();
    Set<String> seen = new HashSet<>();
    todo.push(node);
    while (!todo.isEmpty()) {
      String cur = todo.pop();
      if (!seen.add(cur)) {
        continue;
      }
      for (String c : g.consumers(cur)) {
        if (c.equals(user)) {
          continue;
        }
        NodeDef cn = g.get(c);
        if (READS.contains(cn.getOp())) {
          todo.push(c);
        } else if (!VARIABLE_BOOKKEEPING.contains(cn.getOp())
            && !CHECKPOINT.contains(cn.getOp())) {
          return false;
        }
      }
    }
    return true;
  }
}
