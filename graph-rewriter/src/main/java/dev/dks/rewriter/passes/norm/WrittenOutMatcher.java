package dev.dks.rewriter.passes.norm;

import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.passes.norm.MomentsFinder.Moments;
import dev.dks.rewriter.passes.norm.NormalizationMatch.AffineStep;
import dev.dks.rewriter.passes.norm.NormalizationMatch.Form;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;

/**
 * Finds normalizations written out as elementwise ops, anchored at each {@code Rsqrt} (or {@code
 * Sqrt}) of {@code variance + epsilon}:
 *
 * <ul>
 *   <li>stored statistics (inference BatchNorm; {@code tf.nn.batch_normalization}, Keras' unfused
 *       BatchNormalization, hand-written forms): {@code x * (gamma * rsqrt(var + eps)) + (beta -
 *       mean * gamma * rsqrt(var + eps))}, {@code (x - mean) * rsqrt(var + eps) * gamma + beta},
 *       {@code gamma * (x - mean) / sqrt(var + eps) + beta}, with Add / AddV2, either operand
 *       order, and with or without gamma / beta;
 *   <li>statistics computed from x ({@code tf.nn.moments}: {@code Mean}, {@code
 *       SquaredDifference} with {@code StopGradient}, {@code Mean}; or {@code Sub}, {@code
 *       Square}, {@code Mean}): LayerNorm over the last axis, training-form BatchNorm when the
 *       axes include 0, and RMS norm (no mean) classified the same way; the statistics may sit
 *       behind a training switch ({@link TrainingSwitch}: {@code Select(flag, batch, moving)}),
 *       whose moving-average updates (ending in {@code AssignSub}) join the match.
 * </ul>
 *
 * The chain from x to the output is a sequence of affine steps ({@code value op coefficient})
 * where coefficients depend only on parameters and on the moments of x.
 */
final class WrittenOutMatcher {
  /** Elementwise (or shape-only) ops through which a coefficient stays a coefficient. */
  private static final Set<String> ELEMENTWISE = Set.of("Identity", "Snapshot", "StopGradient",
      "ReadVariableOp", "Cast", "Mul", "Add", "AddV2", "Sub", "RealDiv", "Div", "Rsqrt", "Sqrt",
      "Reciprocal", "Inv", "Neg", "Square", "Maximum", "Minimum", "Reshape", "Squeeze",
      "ExpandDims", "Fill");
  private static final Set<String> LEAVES = Set.of("Const", "VariableV2", "Variable",
      "VarHandleOp");
  private static final Set<String> MULTIPLICATIVE = Set.of("Mul", "RealDiv");
  private static final Set<String> ADDITIVE = Set.of("Add", "AddV2", "Sub");

  private final GraphView g;
  private final Map<String, Boolean> paramMemo = new HashMap<>();
  private final MomentsFinder moments;
  private final TrainingSwitch switches;
  private Map<String, Integer> positions;

  WrittenOutMatcher(GraphView g) {
    this.g = g;
    this.moments = new MomentsFinder(g);
    this.switches = new TrainingSwitch(g);
  }

  /**
   * The moments behind a training switch: {@code variance} selects, by a training flag, between
   * the variance of some x's moments and a stored statistic; null when it does not.
   */
  private Moments switchedMoments(TensorName variance) throws Bail {
    TrainingSwitch.Switched sw = switches.of(variance);
    if (sw == null) {
      return null;
    }
    for (int i = 0; i < 2; i++) {
      TensorName batch = sw.branches().get(i);
      if (isParam(sw.branches().get(1 - i)) && !isParam(batch)) {
        return moments.find(batch);
      }
    }
    return null;
  }

  /** Scans every anchor; matches overlapping {@code claimed} nodes are skipped. */
  void scan(Set<String> claimed, List<NormalizationMatch> matches, List<String> notes) {
    for (NodeDef n : g.nodes()) {
      if (!n.getOp().equals("Rsqrt") && !n.getOp().equals("Sqrt")) {
        continue;
      }
      if (claimed.contains(n.getName())) {
        continue;
      }
      Candidate c = anchor(n);
      if (c == null) {
        continue;
      }
      try {
        NormalizationMatch m = match(c);
        for (String covered : m.nodes()) {
          if (claimed.contains(covered)) {
            throw new Bail("node '" + covered + "' already belongs to another normalization");
          }
        }
        claimed.addAll(m.nodes());
        matches.add(m);
      } catch (Bail b) {
        notes.add("left the " + n.getOp() + " '" + n.getName() + "' of variance + epsilon "
            + "alone: " + b.getMessage());
      }
    }
  }

  /** What an anchor told us before the chain is followed. */
  private record Candidate(NodeDef r, NodeDef epsAdd, TensorName variance, double epsilon) {}

  /** The anchor's {@code variance + eps} input, or null when this Rsqrt is not of that form. */
  private Candidate anchor(NodeDef r) {
    List<TensorName> ins = GraphEdits.dataInputs(r);
    if (ins.size() != 1 || !isFloat(r)) {
      return null;
    }
    NodeDef e = g.find(ins.get(0).node()).orElse(null);
    if (e == null || ins.get(0).index() != 0
        || !(e.getOp().equals("Add") || e.getOp().equals("AddV2"))) {
      return null;
    }
    List<TensorName> eIns = GraphEdits.dataInputs(e);
    if (eIns.size() != 2) {
      return null;
    }
    for (int i = 0; i < 2; i++) {
      Double eps = scalarConst(eIns.get(i));
      if (eps != null && scalarConst(eIns.get(1 - i)) == null) {
        return new Candidate(r, e, eIns.get(1 - i), eps);
      }
    }
    return null;
  }

  private NormalizationMatch match(Candidate c) throws Bail {
    // 1. statistics: stored (parameters only) or moments of some x
    Moments mo = null;
    if (!isParam(c.variance())) {
      mo = moments.find(c.variance());
      if (mo == null) {
        mo = switchedMoments(c.variance());
      }
      if (mo == null) {
        throw new Bail("its variance '" + c.variance() + "' is neither a parameter nor the "
            + "Mean of squared deviations of one tensor");
      }
    }
    final Moments stats = mo;
    Map<String, Boolean> coefMemo = new HashMap<>();
    java.util.function.Predicate<String> coef = node -> isCoef(node, stats, coefMemo, 0);

    // 2. forward from the anchor through coefficient nodes to the steps it scales
    Set<String> reached = new LinkedHashSet<>();
    Deque<String> todo = new ArrayDeque<>(List.of(c.r().getName()));
    Set<String> seen = new HashSet<>();
    while (!todo.isEmpty()) {
      String cur = todo.pop();
      if (!seen.add(cur)) {
        continue;
      }
      for (String u : g.consumers(cur)) {
        NodeDef un = g.get(u);
        if (!Nodes.readsData(un, cur)) {
          continue;
        }
        if (coef.test(u)) {
          todo.push(u);
        } else if (step(un, coef) != null) {
          reached.add(u);
        } else {
          throw new Bail("its value reaches " + un.getOp() + " '" + u + "', which is not an "
              + "elementwise step of a normalization");
        }
      }
    }
    List<String> mult = reached.stream()
        .filter(s -> MULTIPLICATIVE.contains(g.get(s).getOp())).toList();
    if (mult.size() != 1) {
      throw new Bail(mult.isEmpty() ? "no Mul / RealDiv applies it to a tensor"
          : "it scales more than one tensor: " + mult);
    }
    String n0 = mult.get(0);
    AffineStep nStep = step(g.get(n0), coef);
    if (nStep.op().equals("RealDiv") && nStep.coefficientFirst()) {
      throw new Bail("RealDiv '" + n0 + "' divides by the normalized value");
    }

    // 3. backward: at most two Sub / Mul steps, kept only when they reach a mean subtraction
    List<AffineStep> chain = new ArrayList<>();
    chain.add(nStep);
    TensorName value = valueInput(g.get(n0), nStep);
    List<AffineStep> back = new ArrayList<>();
    TensorName v = value;
    for (int k = 0; k < 2; k++) {
      NodeDef p = g.find(v.node()).orElse(null);
      if (p == null || v.index() != 0) {
        break;
      }
      AffineStep s = step(p, coef);
      if (s == null || !(s.op().equals("Sub") || s.op().equals("Mul")) || s.coefficientFirst()
          && s.op().equals("Sub")) {
        break;
      }
      back.add(0, s);
      v = valueInput(p, s);
      if (s.op().equals("Sub")) {
        chain.addAll(0, back);
        value = v;
        break;
      }
    }
    if (stats != null && !value.equals(stats.x())) {
      throw new Bail("the chain starts at '" + value + "', not at the tensor '" + stats.x()
          + "' whose moments it uses");
    }

    // 4. forward: Mul / RealDiv steps, then up to two Add / AddV2 / Sub steps
    String tail = chain.get(chain.size() - 1).node();
    int additive = 0;
    int multiplicative = 0;
    while (true) {
      List<String> users = g.consumers(tail);
      if (users.size() != 1) {
        break;
      }
      NodeDef un = g.get(users.get(0));
      AffineStep s = step(un, coef);
      if (s == null || !valueInput(un, s).equals(TensorName.of(tail))) {
        break;
      }
      boolean isMul = MULTIPLICATIVE.contains(s.op());
      if (isMul && (additive > 0 || multiplicative >= 3
          || s.op().equals("RealDiv") && s.coefficientFirst())) {
        break;
      }
      if (!isMul && additive >= 2) {
        break;
      }
      chain.add(s);
      tail = s.node();
      if (isMul) {
        multiplicative++;
      } else {
        additive++;
      }
    }
    Set<String> chainNodes = new LinkedHashSet<>();
    chain.forEach(s -> chainNodes.add(s.node()));
    for (String r : reached) {
      if (!chainNodes.contains(r)) {
        throw new Bail("it also feeds " + g.get(r).getOp() + " '" + r + "', outside the chain "
            + chainNodes);
      }
    }

    // 5. the nodes that implement it: the chain and the coefficient subgraphs (not the leaves)
    Set<String> covered = new LinkedHashSet<>();
    Set<String> leaves = new LinkedHashSet<>();
    for (AffineStep s : chain) {
      collect(s.coefficient(), value.node(), covered, leaves);
    }
    covered.addAll(chainNodes);
    if (stats != null) {
      covered.addAll(movingAverageUpdates(covered, tail));
    }
    for (String n : covered) {
      if (n.equals(tail)) {
        continue;
      }
      for (String u : g.consumers(n)) {
        boolean updateTrigger = !Nodes.readsData(g.get(u), n)
            && ValueSource.VARIABLE_BOOKKEEPING.contains(g.get(n).getOp());
        if (!covered.contains(u) && !updateTrigger) {
          throw new Bail("node '" + n + "' (" + g.get(n).getOp() + ") inside it is also read by "
              + "'" + u + "' (" + g.get(u).getOp() + ")");
        }
      }
    }

    // 6. parameters by role (best effort) and kind
    Map<String, TensorName> params = new ParameterRoles(g).roles(c.r().getName(),
        c.variance(), stats, chain, nStep, covered, leaves);
    NormKind kind = stats == null ? NormKind.BATCH_NORM : MomentsFinder.classify(stats.axes());
    List<String> ordered = new ArrayList<>(covered);
    ordered.sort(java.util.Comparator.comparingInt(this::position));
    ordered.remove(tail);
    ordered.add(tail);
    return new NormalizationMatch(kind, Form.WRITTEN_OUT, stats != null, c.r().getName(),
        ordered, value, TensorName.of(tail), params, c.epsilon(), null, chain);
  }

  /**
   * The moving-average updates that read the statistics of a normalization with batch
   * statistics (they die with it): consumers outside {@code covered} that only lead to variable
   * assignments, with the switch and constant nodes only they read.
   */
  private Set<String> movingAverageUpdates(Set<String> covered, String tail) {
    Set<String> updates = new LinkedHashSet<>();
    for (String n : List.copyOf(covered)) {
      if (n.equals(tail)) {
        continue;
      }
      for (String u : g.consumers(n)) {
        if (covered.contains(u) || updates.contains(u) || !Nodes.readsData(g.get(u), n)) {
          continue;
        }
        Set<String> up = switches.updatesFrom(u);
        if (up != null) {
          updates.addAll(up);
        }
      }
    }
    return updates;
  }

  /** A node's position in the graph's node order. */
  private int position(String node) {
    if (positions == null) {
      positions = new HashMap<>();
      for (NodeDef n : g.nodes()) {
        positions.put(n.getName(), positions.size());
      }
    }
    return positions.getOrDefault(node, Integer.MAX_VALUE);
  }

  /**
   * An affine step: Mul / RealDiv / Add / AddV2 / Sub with two data inputs of which exactly one is
   * a coefficient; null otherwise.
   */
  private AffineStep step(NodeDef n, java.util.function.Predicate<String> coef) {
    if (!MULTIPLICATIVE.contains(n.getOp()) && !ADDITIVE.contains(n.getOp()) || !isFloat(n)) {
      return null;
    }
    List<TensorName> ins = GraphEdits.dataInputs(n);
    if (ins.size() != 2) {
      return null;
    }
    boolean c0 = coef.test(ins.get(0).node());
    boolean c1 = coef.test(ins.get(1).node());
    if (c0 == c1) {
      return null;
    }
    return new AffineStep(n.getName(), n.getOp(), c0 ? ins.get(0) : ins.get(1), c0);
  }

  private TensorName valueInput(NodeDef n, AffineStep s) {
    List<TensorName> ins = GraphEdits.dataInputs(n);
    return s.coefficientFirst() ? ins.get(1) : ins.get(0);
  }

  /** True when a node depends only on constants, variables and elementwise ops of them. */
  boolean isParam(TensorName t) {
    return isParam(t.node(), 0);
  }

  private boolean isParam(String node, int depth) {
    Boolean memo = paramMemo.get(node);
    if (memo != null) {
      return memo;
    }
    NodeDef n = g.find(node).orElse(null);
    boolean result;
    if (n == null || depth > 100) {
      result = false;
    } else if (LEAVES.contains(n.getOp())) {
      result = true;
    } else if (ELEMENTWISE.contains(n.getOp())) {
      paramMemo.put(node, false); // cycle guard
      result = true;
      for (TensorName in : GraphEdits.dataInputs(n)) {
        if (!isParam(in.node(), depth + 1)) {
          result = false;
          break;
        }
      }
    } else {
      result = false;
    }
    paramMemo.put(node, result);
    return result;
  }

  private boolean isCoef(String node, Moments m, Map<String, Boolean> memo, int depth) {
    if (isParam(node, 0)) {
      return true;
    }
    if (m == null) {
      return false;
    }
    Boolean known = memo.get(node);
    if (known != null) {
      return known;
    }
    if (node.equals(m.variance()) || node.equals(m.mean())) {
      memo.put(node, true);
      return true;
    }
    NodeDef n = g.find(node).orElse(null);
    boolean result = false;
    TrainingSwitch.Switched sw = n == null ? null : switches.ofNode(node);
    if (sw != null && depth < 100) {
      memo.put(node, false);
      result = true;
      for (TensorName b : sw.branches()) {
        if (!isCoef(b.node(), m, memo, depth + 1)) {
          result = false;
          break;
        }
      }
    } else if (n != null && depth < 100 && ELEMENTWISE.contains(n.getOp())
        && !node.equals(m.x().node())) {
      memo.put(node, false);
      result = true;
      for (TensorName in : GraphEdits.dataInputs(n)) {
        if (!isCoef(in.node(), m, memo, depth + 1)) {
          result = false;
          break;
        }
      }
    }
    memo.put(node, result);
    return result;
  }

  /** Adds the non-leaf nodes of a coefficient's subgraph to {@code covered}, leaves aside. */
  private void collect(TensorName t, String xNode, Set<String> covered, Set<String> leaves) {
    Deque<String> todo = new ArrayDeque<>(List.of(t.node()));
    while (!todo.isEmpty()) {
      String n = todo.pop();
      if (n.equals(xNode) || covered.contains(n) || leaves.contains(n)) {
        continue;
      }
      if (isLeafParam(n) || switches.isFlagNode(n)) {
        leaves.add(n);
        continue;
      }
      covered.add(n);
      for (TensorName in : GraphEdits.dataInputs(g.get(n))) {
        todo.push(in.node());
      }
    }
  }

  /** A Const or variable, possibly behind read ops: a parameter the norm only reads. */
  private boolean isLeafParam(String node) {
    return ValueSource.resolve(g, TensorName.of(node)) != null;
  }

  private Double scalarConst(TensorName t) {
    ValueSource s = ValueSource.resolve(g, t);
    if (s == null || s.kind() != ValueSource.Kind.CONST) {
      return null;
    }
    FloatTensor f = FloatTensor.of(s.value(g, Map.of()));
    return f != null && f.size() == 1 ? f.values[0] : null;
  }


  private static boolean isFloat(NodeDef n) {
    return !n.containsAttr("T") || n.getAttrOrThrow("T").getType() == DataType.DT_FLOAT
        || n.getAttrOrThrow("T").getType() == DataType.DT_HALF
        || n.getAttrOrThrow("T").getType() == DataType.DT_BFLOAT16
        || n.getAttrOrThrow("T").getType() == DataType.DT_DOUBLE;
  }
}
