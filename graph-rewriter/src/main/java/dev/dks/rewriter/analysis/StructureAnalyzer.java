package dev.dks.rewriter.analysis;

import dev.dks.rewriter.graph.CheckingGraphs;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.solver.network.Dag;
import dev.dks.solver.network.Structure;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;

/**
 * Derives a network's kernel structure from its graph: walks the nodes between the inputs and
 * the outputs in topological order; an activation site becomes a nonlinear layer, a residual
 * merge a normalized sum (weights read from Mul-by-constant operands, else equal), a ConcatV2 a
 * width-weighted average (widths from TensorFlow's shape inference), anything else on one path
 * the identity (affine layers, bias adds, normalization, pooling, reshapes). A Mul of two body
 * streams that both depend on the input (a squeeze-and-excitation gate times the features, a
 * product of two dense streams: {@link StreamProduct}) is a product node, whose C map is the
 * product of its factors' (kernels multiply, {@code KernelSemantics#product}).
 *
 * <p><b>Body and head.</b> The body is every node on a path from the inputs that is a trainable
 * linear layer (Conv2D, DepthwiseConv2dNative, MatMul) with its bias add, or has one after it on
 * some path to an output; the rest (what follows the last layer on every path: output link functions, reshapes
 * and concats of head outputs, decoding, non-max suppression and control-flow loops) is an
 * output's head. Activation sites, merges and layers are body only: the head is left exactly as
 * it is, and, for the kernel, each of its ops is the identity (several paths: their average).
 * A control-flow loop is allowed in the head only; one before a layer is refused.
 *
 * <p><b>Residual merges</b> are adds of body tensors of the same static shape: an Add/AddV2 of
 * two, an AddN of k, or a chain of such adds whose inner adds only feed the chain (grappler's
 * ArithmeticOptimizer writes a sum of several operands so). An add whose operands have different
 * static shapes (one broadcast) is no residual merge: it is reported in the warnings and analysed
 * as an equal-weight average.
 *
 * <p><b>Every output.</b> The structure given to dks-solver is the maximum over the outputs' DAGs
 * (each output's DAG ends at that output), so the maximal slope / curvature / C(0) functions
 * cover every output path.
 */
public final class StructureAnalyzer {
  private static final Set<String> LAYER_OPS = Set.of("Conv2D", "DepthwiseConv2dNative", "MatMul");
  private static final Set<String> READ_OPS = Set.of("Identity", "ReadVariableOp");
  private static final Set<String> VALUE_OPS = Set.of("VariableV2", "Const", "VarHandleOp");
  private static final Set<String> ADD_OPS = Set.of("Add", "AddV2", "AddN");

  private StructureAnalyzer() {}

  /**
   * Analyzes the paths from {@code inputs} (node names, usually Placeholders) to {@code outputs}.
   *
   * @throws IllegalArgumentException when no output depends on the inputs, or a control-flow loop
   *     comes before a layer (in the body: {@link UnsupportedConstructException})
   */
  public static NetworkAnalysis analyze(GraphView g, List<String> inputs, List<String> outputs) {
    return analyze(g, inputs, outputs, null);
  }

  /**
   * {@link #analyze(GraphView, List, List)} with the output-0 static shapes of {@code g} already
   * known ({@code knownShapes}: known shapes by node name, from TensorFlow's shape inference on exactly
   * this graph imported as {@link CheckingGraphs} imports it), so that the analysis need not import
   * the graph again; null to infer them here when an op needs them.
   */
  public static NetworkAnalysis analyze(GraphView g, List<String> inputs, List<String> outputs,
      Map<String, long[]> knownShapes) {
    return analyze(g, inputs, outputs, knownShapes, Map.of());
  }

  /**
   * {@link #analyze(GraphView, List, List, Map)} with the activation sites the model declares
   * (node name to kind, from its shaping record): Sin and Cos nodes named there are activations
   * ({@link ActivationMatcher#find(GraphView, Map)}); elsewhere they are not.
   */
  public static NetworkAnalysis analyze(GraphView g, List<String> inputs, List<String> outputs,
      Map<String, long[]> knownShapes, Map<String, String> declaredSites) {
    if (outputs.isEmpty()) {
      throw new IllegalArgumentException("the analysis needs at least one output node");
    }
    List<String> warnings = new ArrayList<>();
    List<ActivationSite> allSites = ActivationMatcher.find(g, declaredSites);
    Map<String, ActivationSite> siteByOutput = new HashMap<>();
    Set<String> siteNodes = new HashSet<>();
    for (ActivationSite s : allSites) {
      siteByOutput.put(s.output(), s);
      siteNodes.addAll(s.nodes());
    }
    GraphOrder go = GraphOrder.of(g, outputs);
    for (String n : go.inOrAfterLoops()) {
      if (LAYER_OPS.contains(g.get(n).getOp())) {
        throw new UnsupportedConstructException("control-flow loop in the body", List.of(n),
            "layer '" + n + "' (" + g.get(n).getOp() + ") comes "
            + "in or after a control-flow loop (" + loopNode(g, go) + "): the body of the network"
            + " (inputs to the last layer) must be loop-free for the kernel analysis; a loop is "
            + "accepted only in a head, after the last layer");
      }
    }
    if (!go.inOrAfterLoops().isEmpty()) {
      warnings.add("head: " + go.inOrAfterLoops().size() + " nodes in or after a control-flow "
          + "loop (" + loopNode(g, go) + ") follow the last layer: left as they are");
    }
    List<String> order = go.order();
    Set<String> live = new HashSet<>(order);
    live.addAll(go.inOrAfterLoops());
    // index arithmetic (gather indices, crop boxes, slice bounds, shapes) is no feature: neither
    // a layer nor a measured tensor, and no path into the op whose indices it computes
    Set<String> indexOnly = IndexArguments.indexOnly(g, order, live, outputs);
    Set<String> onPath = onPath(g, order, inputs, false);
    onPath.removeAll(indexOnly);
    Set<String> indexArithmetic = onPath(g, order, inputs, true);
    indexArithmetic.retainAll(indexOnly);
    Set<String> beforeLayer = beforeALayer(g, order);
    Set<String> body = new LinkedHashSet<>();
    for (String name : order) {
      if (onPath.contains(name) && !inputs.contains(name)
          && (LAYER_OPS.contains(g.get(name).getOp()) || beforeLayer.contains(name))) {
        body.add(name);
      }
    }
    for (String name : List.copyOf(body)) {
      String[] bias = LAYER_OPS.contains(g.get(name).getOp()) ? biasAfter(g, name) : null;
      if (bias != null && onPath.contains(bias[0])) {
        body.add(bias[0]); // the last layer's bias add belongs to it
      }
    }
    List<String> conds = BodyConditionals.find(g, body);
    if (!conds.isEmpty()) {
      warnings.add("body: " + conds.size() + " Switch/Merge nodes of a tf.cond come before the "
          + "last layer (e.g. '" + conds.get(0) + "'): the rewrite refuses them (no gradient)");
    }
    Map<String, long[]>[] shapeCache = newShapeCache();
    shapeCache[0] = knownShapes;
    OpPatterns p = new OpPatterns(g);

    Dag.Builder b = Dag.builder();
    Map<String, Integer> index = new HashMap<>();
    Map<String, Integer> depth = new HashMap<>();
    List<ActivationSite> sites = new ArrayList<>();
    List<MergeSite> merges = new ArrayList<>();
    List<LayerSite> layers = new ArrayList<>();
    Map<Integer, ActivationSite> layerActivations = new HashMap<>();
    Map<String, Integer> root = new HashMap<>();
    // linear layers (Conv2D, DepthwiseConv2dNative, MatMul) on the longest path since the node's
    // root (the input or the last nonlinear layer), and in all since the input (tie-breaks)
    Map<String, Integer> sinceRoot = new HashMap<>();
    Map<String, Integer> linearDepth = new HashMap<>();
    // the last linear layer on the node's path since its root ("" when none)
    Map<String, String> lastLayer = new HashMap<>();
    // the tensor a node is an elementwise affine function of, since its root (single-input
    // nodes: their input; several inputs of one tensor: that tensor)
    Map<String, String> affineOf = new HashMap<>();
    Set<String> interior = new HashSet<>();
    int maxBranch = 0;
    int headActivations = 0;
    for (String name : order) {
      if (!onPath.contains(name)) {
        continue;
      }
      NodeDef n = g.get(name);
      if (inputs.contains(name)) {
        index.put(name, b.input());
        root.put(name, 0);
        depth.put(name, 0);
        sinceRoot.put(name, 0);
        linearDepth.put(name, 0);
        lastLayer.put(name, "");
        continue;
      }
      ActivationSite site = siteByOutput.get(name);
      if (site != null && index.containsKey(site.input().node()) && !body.contains(name)) {
        // no layer follows on any path to an output: head, left as it is and, for the kernel,
        // the identity
        if (LINK_KINDS.contains(site.kind())) {
          warnings.add("activation '" + name + "' (" + site.kind() + ") has no " + LAYER_OPS
              + " layer after it on any path to an output: " + LINK_FUNCTION);
        } else {
          headActivations++;
        }
        site = null;
      }
      if (site != null && index.containsKey(site.input().node())) {
        sites.add(site);
        index.put(name, b.layer(index.get(site.input().node())));
        layerActivations.put(index.get(name), site);
        root.put(name, index.get(name));
        depth.put(name, depth.get(site.input().node()) + 1);
        sinceRoot.put(name, 0);
        linearDepth.put(name, linearDepth.getOrDefault(site.input().node(), 0));
        lastLayer.put(name, "");
        continue;
      }
      List<String> pathInputs = new ArrayList<>();
      for (String in : n.getInputList()) {
        TensorName t = TensorName.parse(in);
        if (!t.isControl() && onPath.contains(t.node()) && !pathInputs.contains(t.node())
            && IndexArguments.readsValues(n, t.node())) {
          pathInputs.add(t.node());
        }
      }
      boolean isLayer = LAYER_OPS.contains(n.getOp());
      if (isLayer) {
        layers.add(layerSite(g, n, () -> shapes(g, shapeCache)));
      }
      int lin = (isLayer ? 1 : 0)
          + pathInputs.stream().mapToInt(i -> linearDepth.getOrDefault(i, 0)).max().orElse(0);
      linearDepth.put(name, lin);
      if (pathInputs.size() == 1) {
        sinceRoot.put(name, sinceRoot.getOrDefault(pathInputs.get(0), 0) + (isLayer ? 1 : 0));
        lastLayer.put(name, isLayer ? name : lastLayer.getOrDefault(pathInputs.get(0), ""));
        if (body.contains(name) && !siteNodes.contains(name)) {
          clampWarning(p, n).ifPresent(warnings::add);
        }
        index.put(name, b.affine(index.get(pathInputs.get(0))));
        affineOf.put(name, pathInputs.get(0));
        root.put(name, root.get(pathInputs.get(0)));
        depth.put(name, depth.get(pathInputs.get(0)));
        continue;
      }
      int[] from = pathInputs.stream().mapToInt(index::get).toArray();
      int d = pathInputs.stream().mapToInt(depth::get).max().orElse(0);
      depth.put(name, d);
      sinceRoot.put(name, 0);
      lastLayer.put(name, "");
      if (pathInputs.stream().map(root::get).distinct().count() == 1
          && pathInputs.stream().map(i -> lastLayer.getOrDefault(i, "")).distinct().count() == 1) {
        // every input is an elementwise affine function of the same tensor: with no layer since
        // the root (x * rsqrt(mean(x^2))), or all after the same last layer (a layer norm of h =
        // conv(x): h * rsqrt(mean(h^2)), MatMul + (MatMul - 1)): per location a rescaling, the
        // identity for the kernel. An operand that went through another layer (x + conv(x): a
        // residual block whose branch is linear, blazeface's depthwise + 1x1 conv) is another
        // path. The kernel reads their common tensor, not the root: a CRelu concat([h, -h])
        // after conv h reads h (the root would skip the conv, issue 12).
        int r = root.get(pathInputs.get(0));
        String common = commonTensor(pathInputs, affineOf, index, r);
        index.put(name, b.affine(index.get(common)));
        affineOf.put(name, common);
        root.put(name, r);
        sinceRoot.put(name, pathInputs.stream().mapToInt(i -> sinceRoot.getOrDefault(i, 0))
            .max().orElse(0));
        lastLayer.put(name, lastLayer.getOrDefault(pathInputs.get(0), ""));
        continue;
      }
      if (StreamProduct.matches(n, onPath, body)) {
        // a gate or a product of two streams: kernels multiply (KernelSemantics#product)
        index.put(name, b.product(from));
        root.put(name, index.get(name));
        continue;
      }
      String notMerge = ADD_OPS.contains(n.getOp())
          ? notAMerge(g, p, n, onPath, body, shapes(g, shapeCache)) : "";
      if (ADD_OPS.contains(n.getOp()) && notMerge == null
          && isInnerAdd(g, p, n, onPath, body, shapes(g, shapeCache))) {
        // read only by the next add of a chain: the chain is one merge, analysed there
        interior.add(name);
        index.put(name, b.normalizedSum(normalizedWeights(p, dataInputs(n)), operandIndices(
            dataInputs(n), index)));
      } else if (ADD_OPS.contains(n.getOp()) && notMerge == null) {
        MergeSite m = residualMerge(p, n, leaves(g, n, interior), depth, linearDepth);
        merges.add(m);
        maxBranch = Math.max(maxBranch, m.branchDepth());
        if (!m.isNormalized()) {
          warnings.add("residual merge '" + name + "' is not a normalized sum (weights "
              + m.weights() + "): analysed as if normalized");
        }
        index.put(name, b.normalizedSum(normalized(m.weights()),
            operandIndices(m.operands(), index)));
      } else if ((n.getOp().equals("ConcatV2") || n.getOp().equals("Concat"))) {
        Map<String, long[]> shapes = shapes(g, shapeCache);
        long[] widths = new long[pathInputs.size()];
        for (int i = 0; i < widths.length; i++) {
          long[] s = shapes.get(pathInputs.get(i));
          widths[i] = s == null || s.length == 0 || s[s.length - 1] <= 0 ? 1 : s[s.length - 1];
        }
        if (body.contains(name)) {
          merges.add(new MergeSite(name, "concat", TensorName.of(pathInputs.get(0)),
              TensorName.of(pathInputs.get(1)), 1, 1, 0));
        }
        index.put(name, b.concat(widths, from));
      } else {
        if (notMerge != null && !notMerge.isEmpty()) {
          warnings.add(notMerge);
        } else if (body.contains(name)) {
          warnings.add("node '" + name + "' (" + n.getOp() + ") combines " + pathInputs.size()
              + " paths from the input: analysed as their equal-weight average");
        }
        double[] w = new double[from.length];
        java.util.Arrays.fill(w, Math.sqrt(1.0 / from.length));
        index.put(name, b.normalizedSum(w, from));
      }
      root.put(name, index.get(name));
    }
    if (headActivations > 0) {
      warnings.add("head: " + headActivations + " activations after the last layer on every path"
          + " to an output are left as they are");
    }
    Dag unmarked = b.build();
    // layers fed through depthwise convolutions by another layer: the solver and the kernel check
    // both map them by their chain's map (one network map)
    Dag prefix = unmarked.withChains(
        DepthwiseChainFinder.find(g, unmarked, index, layerActivations, layers));
    Map<String, Dag> outputDags = new LinkedHashMap<>();
    Map<String, List<String>> head = new LinkedHashMap<>();
    Map<String, List<TensorName>> bodyOutputs = new LinkedHashMap<>();
    List<Dag.Node> nodes = new ArrayList<>(prefix.nodes());
    for (String out : outputs) {
      Set<String> anc = g.ancestors(List.of(out));
      List<String> h = new ArrayList<>();
      for (String name : order) {
        if (anc.contains(name) && onPath.contains(name) && !body.contains(name)
            && !inputs.contains(name)) {
          h.add(name);
        }
      }
      go.inOrAfterLoops().stream().filter(anc::contains).forEach(h::add);
      head.put(out, h);
      List<TensorName> bo = boundary(g, out, body, new HashSet<>(h));
      bodyOutputs.put(out, bo);
      Integer end = index.get(out);
      if (end == null) {
        int[] ends = bo.stream().filter(t -> index.containsKey(t.node()))
            .mapToInt(t -> index.get(t.node())).distinct().toArray();
        if (ends.length == 1) {
          end = ends[0];
        } else if (ends.length > 1) {
          double[] f = new double[ends.length];
          java.util.Arrays.fill(f, 1.0 / ends.length);
          nodes.add(new Dag.Node(Dag.Kind.AVERAGE, ends, f));
          end = nodes.size() - 1;
        }
      }
      if (end == null) {
        if (outputs.size() == 1) {
          throw new IllegalArgumentException("output node '" + out + "' does not depend on the "
              + "inputs " + inputs + ": name the input placeholders that feed it");
        }
        warnings.add("output '" + out + "' does not depend on the inputs " + inputs
            + ": not in the kernel structure");
        continue;
      }
      List<Dag.Node> own = new ArrayList<>(nodes);
      own.add(new Dag.Node(Dag.Kind.AFFINE, new int[] {end}, new double[0]));
      outputDags.put(out, new Dag(own));
    }
    if (outputDags.isEmpty()) {
      throw new IllegalArgumentException("no output of " + outputs + " depends on the inputs "
          + inputs + ": name the input placeholders that feed them");
    }
    Dag dag = outputDags.values().iterator().next();
    List<Structure> candidates = new ArrayList<>(outputDags.values());
    if (maxBranch > 0) {
      candidates.add(Structure.chain(maxBranch));
    }
    Structure structure = candidates.size() == 1 ? dag
        : Structure.max(candidates.toArray(new Structure[0]));
    return new NetworkAnalysis(layers, sites, merges, dag, structure, warnings, index,
        layerActivations, body, head, bodyOutputs, outputDags, indexArithmetic);
  }

  /**
   * The warning for a body node that clamps a tensor to a constant (Minimum/Maximum with a scalar
   * Const) without being part of an activation site (relu6 written as clamps is one): left as it
   * is and, for the kernel, the identity.
   */
  private static Optional<String> clampWarning(OpPatterns p, NodeDef n) {
    if (!n.getOp().equals("Minimum") && !n.getOp().equals("Maximum") || n.getInputCount() < 2) {
      return Optional.empty();
    }
    for (int i = 0; i < 2; i++) {
      Optional<Double> v = p.constValue(p.in(n, i));
      if (v.isPresent()) {
        return Optional.of("node '" + n.getName() + "' (" + n.getOp() + ") clamps a body tensor "
            + "to " + v.get() + ": not an activation the rewrite knows (clamps to [0, 6] are "
            + "relu6), left as it is and analysed as the identity");
      }
    }
    return Optional.empty();
  }

  /** The first node of a loop (a Merge or NextIteration, else the first one), for messages. */
  private static String loopNode(GraphView g, GraphOrder go) {
    for (String n : go.inOrAfterLoops()) {
      String op = g.get(n).getOp();
      if (op.equals("Merge") || op.equals("NextIteration") || op.equals("Enter")) {
        return "'" + n + "' (" + op + ")";
      }
    }
    String n = go.inOrAfterLoops().iterator().next();
    return "'" + n + "' (" + g.get(n).getOp() + ")";
  }

  /**
   * The body tensors the head of {@code out} reads: data inputs of its head nodes produced by body
   * nodes, in graph order; {@code out:0} itself when it is a body node.
   */
  private static List<TensorName> boundary(GraphView g, String out, Set<String> body,
      Set<String> head) {
    if (body.contains(out)) {
      return List.of(TensorName.of(out));
    }
    Set<TensorName> found = new LinkedHashSet<>();
    for (String h : head) {
      for (String in : g.get(h).getInputList()) {
        TensorName t = TensorName.parse(in);
        if (!t.isControl() && body.contains(t.node())) {
          found.add(t);
        }
      }
    }
    return List.copyOf(found);
  }

  /**
   * The latest tensor that every one of {@code inputs} (of one root, DAG index {@code r}) is an
   * elementwise affine function of: the last node common to their chains back to the root.
   */
  private static String commonTensor(List<String> inputs, Map<String, String> affineOf,
      Map<String, Integer> index, int r) {
    List<String> first = chainToRoot(inputs.get(0), affineOf, index, r);
    int at = 0;
    for (String in : inputs.subList(1, inputs.size())) {
      int hit = first.size() - 1;
      for (String t : chainToRoot(in, affineOf, index, r)) {
        int k = first.indexOf(t);
        if (k >= 0) {
          hit = k;
          break;
        }
      }
      at = Math.max(at, hit);
    }
    return first.get(at);
  }

  /** {@code t}, the tensor it is affine of, and so on back to the root (DAG index r). */
  private static List<String> chainToRoot(String t, Map<String, String> affineOf,
      Map<String, Integer> index, int r) {
    List<String> chain = new ArrayList<>();
    String cur = t;
    while (cur != null) {
      chain.add(cur);
      if (index.get(cur) == r) {
        break;
      }
      cur = affineOf.get(cur);
    }
    return chain;
  }

  /** The data inputs of a node, in order. */
  private static List<TensorName> dataInputs(NodeDef n) {
    List<TensorName> out = new ArrayList<>();
    for (String in : n.getInputList()) {
      TensorName t = TensorName.parse(in);
      if (!t.isControl()) {
        out.add(t);
      }
    }
    return out;
  }

  /**
   * Why an add of several paths is no residual merge, or null when it is one: it is in a head,
   * its dtype is not floating point, an operand is not on a path from the inputs, or its
   * operands' static shapes differ (one broadcast).
   */
  private static String notAMerge(GraphView g, OpPatterns p, NodeDef n, Set<String> onPath,
      Set<String> body, Map<String, long[]> shapes) {
    String broadcast = broadcastReason(shapes, n);
    if (broadcast != null) {
      return broadcast;
    }
    if (!body.contains(n.getName())) {
      return "";
    }
    DataType t = n.containsAttr("T") ? n.getAttrOrThrow("T").getType() : DataType.DT_FLOAT;
    if (t != DataType.DT_FLOAT && t != DataType.DT_DOUBLE && t != DataType.DT_HALF
        && t != DataType.DT_BFLOAT16) {
      return "node '" + n.getName() + "' (" + n.getOp() + ") adds " + t + " tensors: not a "
          + "residual merge, analysed as the equal-weight average of its paths";
    }
    for (TensorName in : dataInputs(n)) {
      if (!onPath.contains(in.node())) {
        return "node '" + n.getName() + "' (" + n.getOp() + ") adds '" + in + "', which does "
            + "not depend on the inputs, to paths from the input: not a residual merge, "
            + "analysed as the equal-weight average of its paths";
      }
    }
    return null;
  }

  /**
   * True when the add {@code n} (a merge candidate) is read only by one add of the body that
   * is itself a merge candidate: it is then an inner add of a chain.
   */
  private static boolean isInnerAdd(GraphView g, OpPatterns p, NodeDef n, Set<String> onPath,
      Set<String> body, Map<String, long[]> shapes) {
    List<String> consumers = g.consumers(n.getName());
    if (consumers.size() != 1) {
      return false;
    }
    NodeDef c = g.get(consumers.get(0));
    if (!ADD_OPS.contains(c.getOp()) || !body.contains(c.getName())) {
      return false;
    }
    int uses = 0;
    for (TensorName t : dataInputs(c)) {
      if (t.node().equals(n.getName())) {
        if (t.index() != 0) {
          return false;
        }
        uses++;
      }
    }
    return uses == 1 && notAMerge(g, p, c, onPath, body, shapes) == null;
  }

  /** The leaves of the chain of adds ending at {@code add}: inner adds are expanded. */
  private static List<TensorName> leaves(GraphView g, NodeDef add, Set<String> interior) {
    List<TensorName> out = new ArrayList<>();
    for (TensorName t : dataInputs(add)) {
      if (interior.contains(t.node()) && t.index() == 0) {
        out.addAll(leaves(g, g.get(t.node()), interior));
      } else {
        out.add(t);
      }
    }
    return out;
  }

  /** The operands' weights (Mul-by-constant factors), scaled so that their squares sum to 1. */
  private static double[] normalizedWeights(OpPatterns p, List<TensorName> operands) {
    return normalized(operands.stream().map(t -> weightOf(p, t)).toList());
  }

  /** The weights scaled so that their squares sum to 1 (equal weights when all are 0). */
  private static double[] normalized(List<Double> weights) {
    double[] w = new double[weights.size()];
    double s = 0;
    for (int i = 0; i < w.length; i++) {
      w[i] = weights.get(i);
      s += w[i] * w[i];
    }
    double norm = Math.sqrt(s);
    for (int i = 0; i < w.length; i++) {
      w[i] = norm > 0 ? w[i] / norm : Math.sqrt(1.0 / w.length);
    }
    return w;
  }

  private static int[] operandIndices(List<TensorName> operands, Map<String, Integer> index) {
    return operands.stream().mapToInt(t -> index.get(t.node())).toArray();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, long[]>[] newShapeCache() {
    return new Map[1];
  }

  /** TF shape inference, computed once per analysis and only when an op needs shapes. */
  private static Map<String, long[]> shapes(GraphView g, Map<String, long[]>[] cache) {
    if (cache[0] == null) {
      cache[0] = shapes(g);
    }
    return cache[0];
  }

  /**
   * Why the add {@code add} is not a residual merge: its operands' static shapes (from
   * TensorFlow's shape inference) differ, so one is broadcast against another (e.g. [64,64,17]
   * + [64,64,1] in a keypoint-decoding head); null when all shapes are the same (an unknown
   * dimension matches only an unknown one) or one is not known.
   */
  private static String broadcastReason(Map<String, long[]> shapes, NodeDef add) {
    List<long[]> all = new ArrayList<>();
    for (TensorName t : dataInputs(add)) {
      long[] s = t.index() == 0 ? shapes.get(t.node()) : null;
      if (s == null) {
        return null;
      }
      all.add(s);
    }
    boolean same = all.stream().allMatch(s -> java.util.Arrays.equals(s, all.get(0)));
    if (same) {
      return null;
    }
    return "node '" + add.getName() + "' (" + add.getOp() + ") adds "
        + String.join(" and ", all.stream().map(java.util.Arrays::toString).toList())
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
   * Conv2D/DepthwiseConv2dNative/MatMul layer is reachable along data edges that carry values
   * (not index or shape arguments, {@link IndexArguments}).
   */
  private static Set<String> beforeALayer(GraphView g, List<String> order) {
    Set<String> live = new HashSet<>(order);
    Set<String> before = new HashSet<>();
    for (int i = order.size() - 1; i >= 0; i--) {
      String name = order.get(i);
      for (String c : g.consumers(name)) {
        if (live.contains(c) && (before.contains(c) || LAYER_OPS.contains(g.get(c).getOp()))
            && IndexArguments.readsValues(g.get(c), name)) {
          before.add(name);
          break;
        }
      }
    }
    return before;
  }


  /** The marker of {@link #broadcastReason}'s warnings, for the passes' reports. */
  public static final String NOT_A_SKIP = "a broadcasting add is not a residual merge";



  /**
   * The merge of {@code operands}, the deepest first (most nonlinear layers, then most linear
   * layers; the first of equally deep ones).
   */
  private static MergeSite residualMerge(OpPatterns p, NodeDef add, List<TensorName> leaves,
      Map<String, Integer> depth, Map<String, Integer> linearDepth) {
    // a tensor added several times (x + f(x) + x) is one operand with the summed weight
    Map<TensorName, Double> summed = new LinkedHashMap<>();
    for (TensorName t : leaves) {
      summed.merge(t, weightOf(p, t), Double::sum);
    }
    List<TensorName> operands = new ArrayList<>(summed.keySet());
    int k = operands.size();
    int[] d = new int[k];
    int[] lin = new int[k];
    int deepest = 0;
    for (int i = 0; i < k; i++) {
      TensorName t = operands.get(i);
      d[i] = depth.getOrDefault(sourceNode(p, t), depth.getOrDefault(t.node(), 0));
      lin[i] = linearDepth.getOrDefault(sourceNode(p, t), linearDepth.getOrDefault(t.node(), 0));
      // equally many nonlinear layers: the operand with more linear layers is the residual
      // branch (x + conv(x))
      if (d[i] > d[deepest] || d[i] == d[deepest] && lin[i] > lin[deepest]) {
        deepest = i;
      }
    }
    List<TensorName> ordered = new ArrayList<>();
    List<Double> weights = new ArrayList<>();
    ordered.add(operands.get(deepest));
    weights.add(summed.get(operands.get(deepest)));
    int next = 0;
    for (int i = 0; i < k; i++) {
      if (i != deepest) {
        ordered.add(operands.get(i));
        weights.add(summed.get(operands.get(i)));
        next = Math.max(next, d[i]);
      }
    }
    return new MergeSite(add.getName(), "residual", ordered.get(0), ordered.get(1),
        weights.get(0), weights.get(1), d[deepest] - next, ordered, weights);
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

  /**
   * The layer {@code n} with its kernel and bias. The bias is the value added right after it
   * (BiasAdd/Add/AddV2 of a variable or constant), or after a Reshape whose static shape keeps
   * the layer's units as the last axis, added there without broadcasting ({@link ReshapedBias}:
   * Keras Dense on a rank &gt; 2 tensor, written as tensordot), or, when the layer is an operand
   * of a sum (a residual merge written by grappler as AddN/Add of several tensors) that is read
   * only by such a bias add, the value added to that sum: it becomes the layer's own bias once
   * the skips pass removes the merge.
   */
  private static LayerSite layerSite(GraphView g, NodeDef n,
      java.util.function.Supplier<Map<String, long[]>> shapes) {
    String kernel = valueSource(g, TensorName.parse(n.getInput(1)));
    String[] bias = biasAfter(g, n.getName());
    if (bias == null) {
      bias = ReshapedBias.find(g, n, kernel, StructureAnalyzer::biasAfter, shapes);
    }
    if (bias == null) {
      List<String> consumers = g.consumers(n.getName());
      if (consumers.size() == 1 && ADD_OPS.contains(g.get(consumers.get(0)).getOp())) {
        bias = biasAfter(g, consumers.get(0));
      }
    }
    return new LayerSite(n.getName(), n.getOp(), kernel, bias == null ? "" : bias[0],
        bias == null ? "" : bias[1]);
  }

  /** {bias add node, value node} when the only consumer of {@code node} adds a value, or null. */
  private static String[] biasAfter(GraphView g, String node) {
    List<String> consumers = g.consumers(node);
    if (consumers.size() != 1) {
      return null;
    }
    NodeDef c = g.get(consumers.get(0));
    if (c.getOp().equals("BiasAdd") || c.getOp().equals("Add") || c.getOp().equals("AddV2")) {
      for (String in : c.getInputList()) {
        TensorName t = TensorName.parse(in);
        if (!t.node().equals(node)) {
          String v = valueSource(g, t);
          if (!v.isEmpty()) {
            return new String[] {c.getName(), v};
          }
        }
      }
    }
    return null;
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

  /**
   * The nodes of {@code order} whose values depend on the inputs: reached from them along data
   * edges that are not index or shape arguments ({@link IndexArguments}: a Reshape of a constant
   * to the input's shape does not carry the input's values); with {@code anyEdge}, along every
   * data edge. A shape reader ({@link IndexArguments#readsShapeOnly}) is never on the path: its
   * output is the same for every input of that size (faceboxes computes its pad sizes and
   * anchors from its image's shape; as a path they joined the network with zero layers and
   * diluted its C(0): eta auto 0.588 where the ReLU network reaches 0.89).
   */
  private static Set<String> onPath(GraphView g, List<String> order, List<String> inputs,
      boolean anyEdge) {
    Set<String> on = new HashSet<>(inputs);
    for (String name : order) {
      NodeDef n = g.get(name);
      if (IndexArguments.readsShapeOnly(n.getOp())) {
        continue;
      }
      for (String in : n.getInputList()) {
        TensorName t = TensorName.parse(in);
        if (!t.isControl() && on.contains(t.node())
            && (anyEdge || IndexArguments.readsValues(n, t.node()))) {
          on.add(name);
          break;
        }
      }
    }
    return on;
  }

  /** Output-0 shapes from TensorFlow's shape inference, by node name (absent when unknown). */
  private static Map<String, long[]> shapes(GraphView g) {
    try (Graph tg = new Graph()) {
      CheckingGraphs.importForChecks(tg, g.toGraphDef());
      return shapes(tg, g);
    } catch (RuntimeException e) {
      // shapes are a refinement only (concat widths); an unimportable graph keeps none
      return new HashMap<>();
    }
  }

  /**
   * The known output-0 shapes, by node name, of {@code g}'s nodes in {@code imported}, a TensorFlow
   * graph holding exactly {@code g} imported by {@link CheckingGraphs#importForChecks}: what {@link
   * #analyze(GraphView, List, List, Map)} takes as its known shapes.
   */
  public static Map<String, long[]> shapes(Graph imported, GraphView g) {
    Map<String, long[]> out = new HashMap<>();
    for (NodeDef n : g.nodes()) {
      GraphOperation op = imported.operation(n.getName());
      if (op != null && op.numOutputs() > 0) {
        Shape s = op.output(0).shape();
        if (!s.isUnknown()) {
          out.put(n.getName(), s.asArray());
        }
      }
    }
    return out;
  }
}
