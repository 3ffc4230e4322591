package dev.dks.rewriter.passes.norm;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;

/**
 * Recognizes the training switch of an unfused TF1 BatchNorm ({@code tf.layers.batch_normalization}
 * with a tensor {@code training}): a statistic chosen at run time by a boolean flag, written
 * {@code Squeeze(Select(Reshape(flag), ExpandDims(batch_stat), ExpandDims(moving_stat)))}
 * ({@code Select} or {@code SelectV2}), and the moving-average updates that read the batch
 * statistics ({@code AssignSub(moving, (moving - stat) * (1 - momentum))} and the like).
 *
 * <p>The flag is a {@code Placeholder} or {@code PlaceholderWithDefault} of type bool, possibly
 * behind Identity / Reshape / Cast; it is never part of a match (other switches read it).
 */
final class TrainingSwitch {
  private static final Set<String> WRAPPERS = Set.of("Identity", "Snapshot", "StopGradient",
      "Squeeze", "ExpandDims", "Reshape");
  private static final Set<String> FLAG_WRAPPERS = Set.of("Identity", "Reshape", "Cast");
  private static final Set<String> SELECT = Set.of("Select", "SelectV2");
  /** Elementwise arithmetic an update computes with before assigning. */
  private static final Set<String> UPDATE_MATH = Set.of("Identity", "Sub", "Mul", "Add", "AddV2",
      "Squeeze", "ExpandDims", "Reshape", "Cast");

  private final GraphView g;

  TrainingSwitch(GraphView g) {
    this.g = g;
  }

  /**
   * A selection by a training flag.
   *
   * @param select the Select node
   * @param branches its value inputs (then, else), looked through shape wrappers
   */
  record Switched(String select, List<TensorName> branches) {}

  /**
   * The Select behind {@code t} (through shape-only wrappers) when its condition is a training
   * flag; null otherwise.
   */
  Switched of(TensorName t) {
    String node = unwrap(t).node();
    return ofNode(node);
  }

  /** The switch when {@code node} itself is a Select by a training flag; null otherwise. */
  Switched ofNode(String node) {
    NodeDef n = g.find(node).orElse(null);
    if (n == null || !SELECT.contains(n.getOp())) {
      return null;
    }
    List<TensorName> ins = GraphEdits.dataInputs(n);
    if (ins.size() != 3 || !isFlag(ins.get(0))) {
      return null;
    }
    return new Switched(node, List.of(unwrap(ins.get(1)), unwrap(ins.get(2))));
  }

  /** True when {@code t} is a bool Placeholder / PlaceholderWithDefault behind flag wrappers. */
  boolean isFlag(TensorName t) {
    return flagOf(t) != null;
  }

  /**
   * The bool Placeholder / PlaceholderWithDefault that {@code t} is, behind flag wrappers; null
   * when it is not a training flag.
   */
  String flagOf(TensorName t) {
    String cur = t.node();
    for (int i = 0; i < 8; i++) {
      NodeDef n = g.find(cur).orElse(null);
      if (n == null) {
        return null;
      }
      if (isFlagNode(n)) {
        return cur;
      }
      if (!FLAG_WRAPPERS.contains(n.getOp()) || GraphEdits.dataInputs(n).isEmpty()) {
        return null;
      }
      cur = GraphEdits.dataInputs(n).get(0).node();
    }
    return null;
  }

  /** True when {@code node} is the flag itself (a bool placeholder). */
  boolean isFlagNode(String node) {
    NodeDef n = g.find(node).orElse(null);
    return n != null && isFlagNode(n);
  }

  private static boolean isFlagNode(NodeDef n) {
    return (n.getOp().equals("Placeholder") || n.getOp().equals("PlaceholderWithDefault"))
        && n.getAttrOrDefault("dtype", AttrValue.getDefaultInstance()).getType()
            == DataType.DT_BOOL;
  }

  /**
   * The moving-average update subgraph hanging off {@code node}: when every data consumer path
   * from it goes through elementwise arithmetic to an {@code Assign} / {@code AssignSub} / {@code
   * AssignAdd} (or their resource forms) that nothing reads by a data edge, those nodes; null
   * when some path goes elsewhere.
   */
  Set<String> updatesFrom(String consumer) {
    Set<String> out = new LinkedHashSet<>();
    Deque<String> todo = new ArrayDeque<>(List.of(consumer));
    Set<String> seen = new HashSet<>();
    while (!todo.isEmpty()) {
      String cur = todo.pop();
      if (!seen.add(cur)) {
        continue;
      }
      NodeDef n = g.find(cur).orElse(null);
      if (n == null) {
        return null;
      }
      List<String> dataUsers = new ArrayList<>();
      for (String u : g.consumers(cur)) {
        if (dev.dks.rewriter.graph.Nodes.readsData(g.get(u), cur)) {
          dataUsers.add(u);
        }
      }
      if (ValueSource.VARIABLE_BOOKKEEPING.contains(n.getOp())) {
        if (!dataUsers.isEmpty()) {
          return null;
        }
      } else if (!UPDATE_MATH.contains(n.getOp()) || dataUsers.isEmpty()) {
        return null;
      }
      out.add(cur);
      todo.addAll(dataUsers);
    }
    return out;
  }

  private TensorName unwrap(TensorName t) {
    TensorName cur = t;
    for (int i = 0; i < 8; i++) {
      NodeDef n = g.find(cur.node()).orElse(null);
      if (n == null || !WRAPPERS.contains(n.getOp()) || cur.index() != 0) {
        break;
      }
      cur = GraphEdits.dataInputs(n).get(0);
    }
    return cur;
  }
}
