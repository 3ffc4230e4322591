package dev.dks.rewriter.analysis;

import dev.dks.rewriter.graph.CheckingGraphs;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.solver.network.Dag;
import dev.dks.solver.network.Structure;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.proto.NodeDef;

/**
 * Derives a network's kernel structure from its graph: walks the nodes between the inputs and
 * the outputs in topological order; an activation site becomes a nonlinear layer, an Add/AddV2 of
 * two paths a normalized sum (weights read from Mul-by-constant operands, else equal), a ConcatV2
 * a width-weighted average (widths from TensorFlow's shape inference), anything else on one path
 * the identity (affine layers, bias adds, normalization, pooling, reshapes). An Add of two paths
 * whose operands have different static shapes (one broadcast) is no residual merge: it is
 * reported in the warnings and analysed as an equal-weight average. A Sigmoid or Tanh with no
 * Conv2D/DepthwiseConv2dNative/MatMul layer after it on any path to an output (on a head's
 * logits: scores, heat maps, landmarks) is an output link function: not an activation site of
 * the network (it is left exactly as it is), the identity for the kernel, and reported in the
 * warnings. The result feeds
 * dks-solver's maximal slope / curvature / C(0) functions.
 */
public final class StructureAnalyzer {
  private static final Set<String> LAYER_OPS = Set.of("Conv2D", "DepthwiseConv2dNative", "MatMul");
  private static final Set<String> READ_OPS = Set.of("Identity", "ReadVariableOp");
  private static final Set<String> VALUE_OPS = Set.of("VariableV2", "Const", "VarHandleOp");

  private StructureAnalyzer() {}

  /**
   * Analyzes the path from {@code inputs} (node names, usually Placeholders) to {@code outputs}.
   */
  public static NetworkAnalysis analyze(GraphView g, List<String> inputs, List<String> outputs) {
    if (outputs.isEmpty()) {
      throw new IllegalArgumentException("the analysis needs at least one output node");
    }
    List<String> warnings = new ArrayList<>();
    if (outputs.size() > 1) {
      warnings.add("several outputs " + outputs + ": the kernel structure follows '"
          + outputs.get(0) + "'");
    }
    List<ActivationSite> allSites = ActivationMatcher.find(g);
    Map<String, ActivationSite> siteByOutput = new HashMap<>();
    for (ActivationSite s : allSites) {
      siteByOutput.put(s.output(), s);
    }
    List<String> order = topologicalOrder(g, outputs);
    Set<String> onPath = onPath(g, order, inputs);
    Set<String> beforeLayer = beforeALayer(g, order);
    Map<String, long[]> shapes = null; // TF shape inference, only when a merge needs shapes
    OpPatterns p = new OpPatterns(g);

    Dag.Builder b = Dag.builder();
    Map<String, Integer> index = new HashMap<>();
    Map<String, Integer> depth = new HashMap<>();
    List<ActivationSite> sites = new ArrayList<>();
    List<MergeSite> merges = new ArrayList<>();
    List<LayerSite> layers = new ArrayList<>();
    Map<Integer, ActivationSite> layerActivations = new HashMap<>();
    Map<String, Integer> root = new HashMap<>();
    int maxBranch = 0;
    for (String name : order) {
      if (!onPath.contains(name)) {
        continue;
      }
      NodeDef n = g.get(name);
      if (inputs.contains(name)) {
        index.put(name, b.input());
        root.put(name, 0);
        depth.put(name, 0);
        continue;
      }
      ActivationSite site = siteByOutput.get(name);
      if (site != null && LINK_KINDS.contains(site.kind())
          && index.containsKey(site.input().node()) && !beforeLayer.contains(name)) {
        // no layer follows on any path to an output: an output link function (head), left as
        // it is and, for the kernel, the identity
        warnings.add("activation '" + name + "' (" + site.kind() + ") has no " + LAYER_OPS
            + " layer after it on any path to an output: " + LINK_FUNCTION);
        site = null;
      }
      if (site != null && index.containsKey(site.input().node())) {
        sites.add(site);
        index.put(name, b.layer(index.get(site.input().node())));
        layerActivations.put(index.get(name), site);
        root.put(name, index.get(name));
        depth.put(name, depth.get(site.input().node()) + 1);
        continue;
      }
      List<String> pathInputs = new ArrayList<>();
      for (String in : n.getInputList()) {
        TensorName t = TensorName.parse(in);
        if (!t.isControl() && onPath.contains(t.node()) && !pathInputs.contains(t.node())) {
          pathInputs.add(t.node());
        }
      }
      if (LAYER_OPS.contains(n.getOp())) {
        layers.add(layerSite(g, n));
      }
      if (pathInputs.size() == 1) {
        index.put(name, b.affine(index.get(pathInputs.get(0))));
        root.put(name, root.get(pathInputs.get(0)));
        depth.put(name, depth.get(pathInputs.get(0)));
        continue;
      }
      int[] from = pathInputs.stream().mapToInt(index::get).toArray();
      int d = pathInputs.stream().mapToInt(depth::get).max().orElse(0);
      depth.put(name, d);
      if (pathInputs.stream().map(root::get).distinct().count() == 1) {
        // every input is an affine function of the same tensor (e.g. x * rsqrt(mean(x^2))):
        // per location this is a rescaling, the identity for the kernel
        int r = root.get(pathInputs.get(0));
        index.put(name, b.affine(r));
        root.put(name, r);
        continue;
      }
      String broadcast = null;
      if (p.isAdd(n) && pathInputs.size() == 2) {
        if (shapes == null) {
          shapes = shapes(g);
        }
        broadcast = broadcastReason(shapes, n);
      }
      if (p.isAdd(n) && pathInputs.size() == 2 && broadcast == null) {
        MergeSite m = residualMerge(p, n, depth);
        merges.add(m);
        maxBranch = Math.max(maxBranch, m.branchDepth());
        double w0 = weightOf(p, TensorName.parse(n.getInput(0)));
        double w1 = weightOf(p, TensorName.parse(n.getInput(1)));
        double norm = Math.hypot(w0, w1);
        double[] w = {w0 / norm, w1 / norm};
        if (!m.isNormalized()) {
          warnings.add("residual merge '" + name + "' is not a normalized sum (weights "
              + m.residualWeight() + ", " + m.shortcutWeight() + "): analysed as if normalized");
        }
        index.put(name, b.normalizedSum(w, from));
      } else if (n.getOp().equals("ConcatV2") || n.getOp().equals("Concat")) {
        if (shapes == null) {
          shapes = shapes(g);
        }
        long[] widths = new long[pathInputs.size()];
        for (int i = 0; i < widths.length; i++) {
          long[] s = shapes.get(pathInputs.get(i));
          widths[i] = s == null || s.length == 0 || s[s.length - 1] <= 0 ? 1 : s[s.length - 1];
        }
        merges.add(new MergeSite(name, "concat", TensorName.of(pathInputs.get(0)),
            TensorName.of(pathInputs.get(1)), 1, 1, 0));
        index.put(name, b.concat(widths, from));
      } else {
        warnings.add(broadcast != null ? broadcast
            : "node '" + name + "' (" + n.getOp() + ") combines " + pathInputs.size()
            + " paths from the input: analysed as their equal-weight average");
        double[] w = new double[from.length];
        java.util.Arrays.fill(w, Math.sqrt(1.0 / from.length));
        index.put(name, b.normalizedSum(w, from));
      }
      root.put(name, index.get(name));
    }
    String out = outputs.get(0);
    if (!index.containsKey(out)) {
      throw new IllegalArgumentException("output node '" + out + "' does not depend on the inputs "
          + inputs + ": name the input placeholders that feed it");
    }
    b.affine(index.get(out));
    Dag dag = b.build();
    Structure structure = maxBranch > 0 ? Structure.max(dag, Structure.chain(maxBranch)) : dag;
    return new NetworkAnalysis(layers, sites, merges, dag, structure, warnings, index,
        layerActivations);
  }

  /**
   * Why the two-path add {@code add} is not a residual merge: its operands' static shapes (from
   * TensorFlow's shape inference) differ, so one is broadcast against the other (e.g. [64,64,17]
   * + [64,64,1] in a keypoint-decoding head); null when both shapes are the same (an unknown
   * dimension matches only an unknown one) or either is not known.
   */
  private static String broadcastReason(Map<String, long[]> shapes, NodeDef add) {
    long[] a = shapeOf(shapes, add.getInput(0));
    long[] c = shapeOf(shapes, add.getInput(1));
    if (a == null || c == null || java.util.Arrays.equals(a, c)) {
      return null;
    }
    return "node '" + add.getName() + "' (" + add.getOp() + ") adds "
        + java.util.Arrays.toString(a) + " and " + java.util.Arrays.toString(c)
        + ": " + NOT_A_SKIP + " (one operand is broadcast), left alone; analysed as the "
        + "equal-weight average of its paths";
  }

  /**
   * Activation kinds that are output link functions when no layer follows them (Softmax and
   * LogSoftmax are never activation sites). A relu-like activation after the last layer stays an
   * activation of the network, as before.
   */
  private static final Set<String> LINK_KINDS = Set.of("sigmoid", "tanh");

  /** The marker of the warnings about output link functions. */
  public static final String LINK_FUNCTION = "an output link function of the head, left as it is";

  /**
   * The nodes of {@code order} (a topological order of the outputs' ancestors) from which a
   * Conv2D/DepthwiseConv2dNative/MatMul layer is reachable along data edges.
   */
  private static Set<String> beforeALayer(GraphView g, List<String> order) {
    Set<String> live = new HashSet<>(order);
    Set<String> before = new HashSet<>();
    for (int i = order.size() - 1; i >= 0; i--) {
      String name = order.get(i);
      for (String c : g.consumers(name)) {
        if (live.contains(c) && (before.contains(c) || LAYER_OPS.contains(g.get(c).getOp()))
            && readsData(g.get(c), name)) {
          before.add(name);
          break;
        }
      }
    }
    return before;
  }

  private static boolean readsData(NodeDef consumer, String producer) {
    for (String in : consumer.getInputList()) {
      TensorName t = TensorName.parse(in);
      if (!t.isControl() && t.node().equals(producer)) {
        return true;
      }
    }
    return false;
  }

  /** The marker of {@link #broadcastReason}'s warnings, for the passes' reports. */
  public static final String NOT_A_SKIP = "a broadcasting add is not a residual merge";

  /** The static shape of an input tensor (output 0 only is known), or null. */
  private static long[] shapeOf(Map<String, long[]> shapes, String input) {
    TensorName t = TensorName.parse(input);
    return t.index() == 0 ? shapes.get(t.node()) : null;
  }

  private static MergeSite residualMerge(OpPatterns p, NodeDef add, Map<String, Integer> depth) {
    TensorName a = TensorName.parse(add.getInput(0));
    TensorName c = TensorName.parse(add.getInput(1));
    double wa = weightOf(p, a);
    double wc = weightOf(p, c);
    int da = depth.getOrDefault(sourceNode(p, a), depth.getOrDefault(a.node(), 0));
    int dc = depth.getOrDefault(sourceNode(p, c), depth.getOrDefault(c.node(), 0));
    boolean aIsResidual = da >= dc;
    return aIsResidual
        ? new MergeSite(add.getName(), "residual", a, c, wa, wc, da - dc)
        : new MergeSite(add.getName(), "residual", c, a, wc, wa, dc - da);
  }

  /** The constant factor of {@code t = Mul(const, x)}, else 1. */
  private static double weightOf(OpPatterns p, TensorName t) {
    Optional<NodeDef> n = p.producer(t);
    if (n.isPresent() && p.isMul(n.get())) {
      for (int i = 0; i < 2; i++) {
        Optional<Double> v = p.constValue(p.in(n.get(), i));
        if (v.isPresent()) {
          return v.get();
        }
      }
    }
    return 1.0;
  }

  /** The node of t, or the non-constant operand's node when t = Mul(const, x). */
  private static String sourceNode(OpPatterns p, TensorName t) {
    Optional<NodeDef> n = p.producer(t);
    if (n.isPresent() && p.isMul(n.get())) {
      for (int i = 0; i < 2; i++) {
        if (p.constValue(p.in(n.get(), i)).isPresent()) {
          return p.in(n.get(), 1 - i).node();
        }
      }
    }
    return t.node();
  }

  private static LayerSite layerSite(GraphView g, NodeDef n) {
    String kernel = valueSource(g, TensorName.parse(n.getInput(1)));
    String biasNode = "";
    String biasVar = "";
    List<String> consumers = g.consumers(n.getName());
    if (consumers.size() == 1) {
      NodeDef c = g.get(consumers.get(0));
      if (c.getOp().equals("BiasAdd") || c.getOp().equals("Add") || c.getOp().equals("AddV2")) {
        for (String in : c.getInputList()) {
          TensorName t = TensorName.parse(in);
          if (!t.node().equals(n.getName())) {
            String v = valueSource(g, t);
            if (!v.isEmpty()) {
              biasNode = c.getName();
              biasVar = v;
            }
          }
        }
      }
    }
    return new LayerSite(n.getName(), n.getOp(), kernel, biasNode, biasVar);
  }

  /** The VariableV2/Const/VarHandleOp behind t (through Identity/ReadVariableOp), or "". */
  private static String valueSource(GraphView g, TensorName t) {
    Optional<NodeDef> n = g.find(t.node());
    for (int hops = 0; n.isPresent() && hops < 4; hops++) {
      if (VALUE_OPS.contains(n.get().getOp())) {
        return n.get().getName();
      }
      if (!READ_OPS.contains(n.get().getOp())) {
        return "";
      }
      n = g.find(TensorName.parse(n.get().getInput(0)).node());
    }
    return "";
  }

  /** Ancestors of the outputs in topological order (data and control edges). */
  static List<String> topologicalOrder(GraphView g, List<String> outputs) {
    Set<String> live = g.ancestors(outputs);
    Map<String, Integer> pending = new LinkedHashMap<>();
    Map<String, List<String>> users = new HashMap<>();
    for (String name : live) {
      NodeDef n = g.get(name);
      Set<String> ins = new HashSet<>();
      for (String in : n.getInputList()) {
        String src = TensorName.parse(in).node();
        if (live.contains(src) && ins.add(src)) {
          users.computeIfAbsent(src, k -> new ArrayList<>()).add(name);
        }
      }
      pending.put(name, ins.size());
    }
    ArrayDeque<String> ready = new ArrayDeque<>();
    for (NodeDef n : g.nodes()) {
      if (pending.getOrDefault(n.getName(), -1) == 0) {
        ready.add(n.getName());
      }
    }
    List<String> order = new ArrayList<>();
    while (!ready.isEmpty()) {
      String n = ready.poll();
      order.add(n);
      for (String u : users.getOrDefault(n, List.of())) {
        if (pending.merge(u, -1, Integer::sum) == 0) {
          ready.add(u);
        }
      }
    }
    if (order.size() != live.size()) {
      throw new IllegalArgumentException("the graph has a cycle among the ancestors of " + outputs
          + " (control flow loops are not supported by the kernel analysis)");
    }
    return order;
  }

  private static Set<String> onPath(GraphView g, List<String> order, List<String> inputs) {
    Set<String> on = new HashSet<>(inputs);
    for (String name : order) {
      for (String in : g.get(name).getInputList()) {
        TensorName t = TensorName.parse(in);
        if (!t.isControl() && on.contains(t.node())) {
          on.add(name);
          break;
        }
      }
    }
    return on;
  }

  /** Output-0 shapes from TensorFlow's shape inference, by node name (null when unknown). */
  private static Map<String, long[]> shapes(GraphView g) {
    Map<String, long[]> out = new HashMap<>();
    try (Graph tg = new Graph()) {
      CheckingGraphs.importForChecks(tg, g.toGraphDef());
      for (NodeDef n : g.nodes()) {
        GraphOperation op = tg.operation(n.getName());
        if (op != null && op.numOutputs() > 0) {
          Shape s = op.output(0).shape();
          if (!s.isUnknown()) {
            out.put(n.getName(), s.asArray());
          }
        }
      }
    } catch (RuntimeException e) {
      // shapes are a refinement only (concat widths); an unimportable graph keeps none
    }
    return out;
  }
}
