package dev.dks.rewriter.passes.norm;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.NodeDef;

/**
 * Finds {@link BatchNormCond}s without changing the graph. A {@code Merge} is one when:
 *
 * <ul>
 *   <li>it has two data inputs, each the output of a {@code Switch} (through Identity nodes in the
 *       branch), one taken from output 0 (the predicate false) and one from output 1 (true);
 *   <li>both Switches are on the same training flag ({@link TrainingSwitch#flagOf}: a bool
 *       placeholder, possibly behind Identity / Reshape / Cast, such as the cond's {@code
 *       pred_id});
 *   <li>one branch's value is a stored statistic ({@link ValueSource}: a variable or Const read)
 *       and the other a batch statistic: a {@code Mean} (through Identity / Squeeze /
 *       StopGradient / Reshape) over constant axes that include 0;
 *   <li>nothing reads the Merge's {@code value_index} output.
 * </ul>
 *
 * Anything else (a dropout cond, a cond on a computed predicate, a cond choosing between whole
 * layers) is not a match and is left to body-check, which refuses a cond in the body.
 */
final class BatchNormCondMatcher {
  private static final Set<String> BRANCH_WRAPPERS = Set.of("Identity", "Snapshot");
  private static final Set<String> STAT_WRAPPERS = Set.of("Identity", "Snapshot", "Squeeze",
      "StopGradient", "Reshape", "ExpandDims");

  private final GraphView g;
  private final TrainingSwitch switches;

  BatchNormCondMatcher(GraphView g) {
    this.g = g;
    this.switches = new TrainingSwitch(g);
  }

  /** The batch-norm conds of the graph, in graph order. */
  List<BatchNormCond> find() {
    List<BatchNormCond> out = new ArrayList<>();
    for (NodeDef n : g.nodes()) {
      if (n.getOp().equals("Merge")) {
        BatchNormCond c = match(n);
        if (c != null) {
          out.add(c);
        }
      }
    }
    return out;
  }

  /** The match at {@code merge}, or null. */
  BatchNormCond match(NodeDef merge) {
    List<TensorName> ins = GraphEdits.dataInputs(merge);
    if (ins.size() != 2 || !g.dataConsumers(new TensorName(merge.getName(), 1)).isEmpty()) {
      return null;
    }
    Set<String> nodes = new LinkedHashSet<>(List.of(merge.getName()));
    TensorName[] byPort = new TensorName[2];
    String flag = null;
    for (TensorName in : ins) {
      TensorName sw = throughBranch(in, nodes);
      if (sw == null || sw.index() > 1 || byPort[sw.index()] != null) {
        return null;
      }
      NodeDef s = g.get(sw.node());
      List<TensorName> sIns = GraphEdits.dataInputs(s);
      String f = sIns.size() == 2 ? switches.flagOf(sIns.get(1)) : null;
      if (f == null || flag != null && !flag.equals(f)) {
        return null;
      }
      flag = f;
      byPort[sw.index()] = sIns.get(0);
      nodes.add(s.getName());
    }
    for (int stored = 0; stored < 2; stored++) {
      TensorName inference = byPort[stored];
      TensorName training = byPort[1 - stored];
      if (ValueSource.resolve(g, inference) != null && ValueSource.resolve(g, training) == null
          && isBatchStatistic(training)) {
        return new BatchNormCond(merge.getName(), inference, training, flag, nodes);
      }
    }
    return null;
  }

  /**
   * The Switch output that {@code t} is, through Identity nodes inside the branch (added to
   * {@code nodes}); null when it is not a Switch output.
   */
  private TensorName throughBranch(TensorName t, Set<String> nodes) {
    TensorName cur = t;
    for (int i = 0; i < 8; i++) {
      NodeDef n = g.find(cur.node()).orElse(null);
      if (n == null) {
        return null;
      }
      if (n.getOp().equals("Switch")) {
        return cur;
      }
      if (!BRANCH_WRAPPERS.contains(n.getOp()) || cur.index() != 0
          || consumersOtherThan(n.getName(), nodes)) {
        return null;
      }
      nodes.add(n.getName());
      cur = GraphEdits.dataInputs(n).get(0);
    }
    return null;
  }

  /** True when some node outside {@code nodes} reads {@code node} (by data or control edge). */
  private boolean consumersOtherThan(String node, Set<String> nodes) {
    return g.consumers(node).stream().anyMatch(c -> !nodes.contains(c)
        && !g.get(c).getOp().equals("Merge"));
  }

  /** True when {@code t} is a Mean over constant axes that include the batch axis 0. */
  private boolean isBatchStatistic(TensorName t) {
    TensorName cur = t;
    for (int i = 0; i < 8; i++) {
      NodeDef n = g.find(cur.node()).orElse(null);
      if (n == null || cur.index() != 0) {
        return false;
      }
      if (n.getOp().equals("Mean")) {
        try {
          for (long a : new ParamEvaluator(g, Map.of()).intConstant(
              GraphEdits.dataInputs(n).get(1))) {
            if (a == 0) {
              return true;
            }
          }
        } catch (Bail b) {
          return false;
        }
        return false;
      }
      if (!STAT_WRAPPERS.contains(n.getOp())) {
        return false;
      }
      cur = GraphEdits.dataInputs(n).get(0);
    }
    return false;
  }

  /**
   * True when {@code n} is a cond's predicate Switch on {@code flag}: {@code Switch(flag, flag)},
   * whose outputs TF reads only for the control edges of the branches' constants.
   */
  static boolean isPredicateSwitch(GraphView g, NodeDef n, String flag) {
    if (!n.getOp().equals("Switch") || n.getInputCount() < 2) {
      return false;
    }
    TrainingSwitch ts = new TrainingSwitch(g);
    return flag.equals(ts.flagOf(TensorName.parse(n.getInput(0))))
        && flag.equals(ts.flagOf(TensorName.parse(n.getInput(1))));
  }
}
