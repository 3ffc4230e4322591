package dev.dks.rewriter.passes.norm;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * Finds {@link BatchNormCond}s without changing the graph. A {@code Merge} is one when nothing
 * reads its {@code value_index} output, it has two data inputs, one from each branch of a cond on
 * a training flag ({@link TrainingSwitch#flagOf}: a bool placeholder, possibly behind Identity /
 * Reshape / Cast, such as the cond's {@code pred_id}), and either
 *
 * <ul>
 *   <li>(unfused) each input is a Switch output (through Identity nodes in the branch), one from
 *       output 0 (taken when the flag is false) and one from output 1 (true), and one branch's
 *       value is a stored statistic ({@link ValueSource}: a variable or Const read) and the other
 *       a batch statistic: a {@code Mean} (through Identity / Squeeze / StopGradient / Reshape)
 *       over constant axes that include 0; or
 *   <li>(whole outputs, as Keras' {@code K.in_train_phase} selects them) the same, but the two
 *       branches' values are the outputs of two batch norms of the same tensor, one with batch
 *       statistics and one with stored ones (a FusedBatchNorm's y or a written-out batch norm
 *       {@link NormalizationMatcher} finds); or
 *   <li>(fused) the inputs are the same output of two FusedBatchNorm (V2, V3) nodes, one with
 *       {@code is_training} false whose every input is a Switch output p on the flag, one with
 *       {@code is_training} true whose inputs are Switch outputs 1 - p on the flag or Consts (the
 *       empty mean and variance), both normalizing the same tensor; the Merges of their other
 *       outputs join the match.
 * </ul>
 *
 * <p>In every form the stored-statistics branch must be the one a served model takes ({@link
 * #servedPort}): when the flag is a {@code PlaceholderWithDefault} of a constant, the Switch
 * output its default selects (false: output 0, as {@code training} flags default; true: output
 * 1, as an {@code is_inference} flag would); when it is a plain {@code Placeholder}, which the
 * caller feeds, whichever output holds the stored statistics. A cond whose default selects the
 * batch statistics is not a match (its served model normalizes by the batch).
 *
 * Every removed node (Switches, branch Identities, the training FusedBatchNorm) must be read
 * only inside the match. Anything else (a dropout cond, a cond on a computed predicate, a cond
 * choosing between other layers) is not a match and is left to body-check, which refuses a cond
 * in the body.
 */
final class BatchNormCondMatcher {
  private static final Set<String> FUSED = Set.of("FusedBatchNorm", "FusedBatchNormV2",
      "FusedBatchNormV3");
  private static final Set<String> BRANCH_WRAPPERS = Set.of("Identity", "Snapshot");
  private static final Set<String> STAT_WRAPPERS = Set.of("Identity", "Snapshot", "Squeeze",
      "StopGradient", "Reshape", "ExpandDims");

  private final GraphView g;
  private final TrainingSwitch switches;
  /** The graph's normalizations, listed on first use. */
  private List<NormalizationMatch> norms;

  BatchNormCondMatcher(GraphView g) {
    this.g = g;
    this.switches = new TrainingSwitch(g);
  }

  /** The batch-norm conds of the graph, in graph order. */
  List<BatchNormCond> find() {
    List<BatchNormCond> out = new ArrayList<>();
    Set<String> claimed = new HashSet<>();
    for (NodeDef n : g.nodes()) {
      if (n.getOp().equals("Merge") && !claimed.contains(n.getName())) {
        BatchNormCond c = match(n);
        if (c != null && c.nodes().stream().noneMatch(claimed::contains) && readOnlyInside(c)) {
          claimed.addAll(c.nodes());
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
    BatchNormCond c = unfused(merge, ins);
    return c != null ? c : fused(ins);
  }

  private BatchNormCond unfused(NodeDef merge, List<TensorName> ins) {
    Set<String> nodes = new LinkedHashSet<>(List.of(merge.getName()));
    TensorName[] byPort = new TensorName[2];
    String flag = null;
    for (TensorName in : ins) {
      TensorName sw = throughBranch(in, nodes);
      if (sw == null || sw.index() > 1 || byPort[sw.index()] != null) {
        return null;
      }
      NodeDef s = g.get(sw.node());
      String f = switchFlag(s);
      if (f == null || flag != null && !flag.equals(f)) {
        return null;
      }
      flag = f;
      byPort[sw.index()] = GraphEdits.dataInputs(s).get(0);
      nodes.add(s.getName());
    }
    int served = servedPort(flag);
    for (int stored = 0; stored < 2; stored++) {
      if (served >= 0 && stored != served) {
        continue;
      }
      TensorName inference = byPort[stored];
      TensorName training = byPort[1 - stored];
      boolean statistic = ValueSource.resolve(g, inference) != null
          && ValueSource.resolve(g, training) == null && isBatchStatistic(training);
      if (statistic || sameInput(normalized(inference, false), normalized(training, true))) {
        return new BatchNormCond(Map.of(merge.getName(), inference), null, training, flag,
            nodes);
      }
    }
    return null;
  }

  /**
   * The input x when {@code t} is the output of a batch norm of x, with batch statistics or
   * stored ones as {@code batchStatistics} says (a FusedBatchNorm's y, or a written-out batch
   * norm that {@link NormalizationMatcher} finds); null otherwise.
   */
  private TensorName normalized(TensorName t, boolean batchStatistics) {
    NodeDef n = g.find(t.node()).orElse(null);
    if (n == null) {
      return null;
    }
    if (FUSED.contains(n.getOp())) {
      return t.index() == 0 && training(n) == batchStatistics
          ? GraphEdits.dataInputs(n).get(0) : null;
    }
    if (norms == null) {
      norms = NormalizationMatcher.find(g);
    }
    for (NormalizationMatch m : norms) {
      if (m.kind() == NormKind.BATCH_NORM && m.output().equals(t)
          && m.batchStatistics() == batchStatistics) {
        return m.input();
      }
    }
    return null;
  }

  private static boolean sameInput(TensorName a, TensorName b) {
    return a != null && a.equals(b);
  }

  private BatchNormCond fused(List<TensorName> ins) {
    NodeDef a = g.find(ins.get(0).node()).orElse(null);
    NodeDef b = g.find(ins.get(1).node()).orElse(null);
    if (a == null || b == null || !FUSED.contains(a.getOp()) || !FUSED.contains(b.getOp())
        || ins.get(0).index() != ins.get(1).index() || training(a) == training(b)) {
      return null;
    }
    NodeDef inf = training(a) ? b : a;
    NodeDef train = training(a) ? a : b;
    Set<String> nodes = new LinkedHashSet<>();
    String flag = null;
    TensorName[] xs = new TensorName[2];
    // the Switch output the inference batch norm reads (its x's), the training one the other
    int infPort = GraphEdits.dataInputs(inf).get(0).index();
    if (infPort > 1) {
      return null;
    }
    for (NodeDef bn : List.of(inf, train)) {
      boolean isTrain = bn == train;
      List<TensorName> bnIns = GraphEdits.dataInputs(bn);
      for (int i = 0; i < bnIns.size(); i++) {
        TensorName t = bnIns.get(i);
        NodeDef src = g.find(t.node()).orElse(null);
        if (src == null) {
          return null;
        }
        if (isTrain && i >= 3 && src.getOp().equals("Const")) {
          continue;
        }
        String f = src.getOp().equals("Switch") ? switchFlag(src) : null;
        if (f == null || t.index() != (isTrain ? 1 - infPort : infPort)
            || flag != null && !flag.equals(f)) {
          return null;
        }
        flag = f;
        nodes.add(src.getName());
        if (i == 0) {
          xs[isTrain ? 1 : 0] = GraphEdits.dataInputs(src).get(0);
        }
      }
    }
    if (xs[0] == null || !xs[0].equals(xs[1])) {
      return null;
    }
    int served = servedPort(flag);
    if (served >= 0 && served != infPort) {
      return null;
    }
    nodes.add(train.getName());
    Map<String, TensorName> merges = new LinkedHashMap<>();
    for (String m : g.consumers(inf.getName())) {
      NodeDef mn = g.get(m);
      List<TensorName> mIns = GraphEdits.dataInputs(mn);
      if (!mn.getOp().equals("Merge") || mIns.size() != 2
          || !g.dataConsumers(new TensorName(m, 1)).isEmpty()) {
        return null;
      }
      TensorName fromInf = mIns.get(0).node().equals(inf.getName()) ? mIns.get(0) : mIns.get(1);
      TensorName other = fromInf == mIns.get(0) ? mIns.get(1) : mIns.get(0);
      if (!other.equals(new TensorName(train.getName(), fromInf.index()))) {
        return null;
      }
      merges.put(m, fromInf);
      nodes.add(m);
    }
    return new BatchNormCond(merges, inf.getName(), new TensorName(train.getName(), 0), flag,
        nodes);
  }

  /**
   * The Switch output (0 for false, 1 for true) that a served model takes on {@code flag}: its
   * default when it is a {@code PlaceholderWithDefault} of a bool Const; -1 when the caller must
   * feed it (a plain {@code Placeholder}, or a default that is not a constant).
   */
  private int servedPort(String flag) {
    NodeDef f = g.find(flag).orElse(null);
    if (f == null || !f.getOp().equals("PlaceholderWithDefault")) {
      return -1;
    }
    List<TensorName> in = GraphEdits.dataInputs(f);
    NodeDef c = in.isEmpty() ? null : g.find(in.get(0).node()).orElse(null);
    if (c == null || !c.getOp().equals("Const") || !c.getAttrMap().containsKey("value")) {
      return -1;
    }
    TensorProto v = c.getAttrOrThrow("value").getTensor();
    if (v.getDtype() != DataType.DT_BOOL) {
      return -1;
    }
    if (v.getBoolValCount() > 0) {
      return v.getBoolVal(0) ? 1 : 0;
    }
    // no values: TensorFlow fills the tensor with false
    return !v.getTensorContent().isEmpty() && v.getTensorContent().byteAt(0) != 0 ? 1 : 0;
  }

  /** The flag a Switch switches on (its predicate input), or null. */
  private String switchFlag(NodeDef s) {
    List<TensorName> sIns = GraphEdits.dataInputs(s);
    return sIns.size() == 2 ? switches.flagOf(sIns.get(1)) : null;
  }

  private static boolean training(NodeDef bn) {
    return bn.getAttrOrDefault("is_training", AttrValue.newBuilder().setB(true).build()).getB();
  }

  /**
   * True when every removed node other than a Merge is read only by the match's nodes and the
   * lifted inference node (so that removing them cuts no other reader).
   */
  private boolean readOnlyInside(BatchNormCond c) {
    for (String n : c.nodes()) {
      if (c.merges().containsKey(n)) {
        continue;
      }
      for (String r : g.consumers(n)) {
        if (!c.nodes().contains(r) && !r.equals(c.lifted())) {
          return false;
        }
      }
    }
    return true;
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
