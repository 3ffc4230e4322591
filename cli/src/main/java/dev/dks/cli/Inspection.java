package dev.dks.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dks.rewriter.DksRewrite;
import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.analysis.ActivationSite;
import dev.dks.rewriter.analysis.BodyConditionals;
import dev.dks.rewriter.analysis.LayerSite;
import dev.dks.rewriter.analysis.MergeSite;
import dev.dks.rewriter.analysis.NetworkAnalysis;
import dev.dks.rewriter.analysis.StructureAnalyzer;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.model.TensorSpec;
import dev.dks.rewriter.passes.defaults.FillDefaultAttrsPass;
import dev.dks.rewriter.passes.dks.ActivationPolicy;
import dev.dks.rewriter.passes.dks.BodyCheckPass;
import dev.dks.rewriter.passes.fused.SplitFusedOpsPass;
import dev.dks.rewriter.passes.inline.InlineFunctionsPass;
import dev.dks.rewriter.passes.inline.ResourceVariablesPass;
import dev.dks.rewriter.passes.norm.BatchNormCondPass;
import dev.dks.rewriter.passes.norm.NormalizationMatch;
import dev.dks.rewriter.passes.norm.NormalizationMatcher;
import dev.dks.rewriter.passes.norm.StripNormalizationPass;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.pipeline.RewritePass;
import dev.dks.rewriter.pipeline.StructuralVerifier;
import dev.dks.savedmodels.ModelReaders;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * What {@code dks inspect} finds in a model, and how it prints it (text or JSON). The model as
 * read gives the signatures, node counts and the op histogram of the serving path (the ancestors
 * of the signatures' outputs); the graph after the rewrite's preparation passes (fill-defaults,
 * inline-functions, resource-to-ref-vars, split-fused, bn-cond, i.e. as the DKS passes would see
 * it) gives the structure analysis (layers, activations, merges, structure depth) and the
 * normalizations ({@link NormalizationMatcher#scan}). "What would change" counts, for every pass
 * of {@link DksRewrite#pipeline}, what it would act on (counted on the prepared graph, before the
 * earlier DKS passes run; e.g. pruned shortcut convolutions are still counted as layers).
 */
final class Inspection {
  private static final Set<String> PREPARATION = Set.of(FillDefaultAttrsPass.NAME,
      InlineFunctionsPass.NAME, ResourceVariablesPass.NAME, SplitFusedOpsPass.NAME,
      BatchNormCondPass.NAME);

  /** A layer on the network path with its kernel's shape (null when unknown). */
  record Layer(LayerSite site, long[] kernelShape) {}

  /**
   * What one pass of the rewrite would do.
   *
   * @param pass the pass name
   * @param description its description
   * @param count how many places it would change, null when inspect cannot predict it
   * @param detail one line saying what
   */
  record Change(String pass, String description, Integer count, String detail) {}

  private final ModelReaders.Loaded loaded;
  private final RewriteOptions options;
  private final int nodes;
  private final int servingNodes;
  private final Map<String, Integer> ops;
  private final List<PassOutcome> preparation = new ArrayList<>();
  private final List<String> warnings = new ArrayList<>();
  private NetworkAnalysis analysis;
  private org.tensorflow.proto.GraphDef preparedGraph;
  private final List<Layer> layers = new ArrayList<>();
  private final List<NormalizationMatch> norms = new ArrayList<>();
  private int maxPools;
  private int layerConstants;
  private List<String> bodyConditionals = List.of();
  private final List<Change> changes = new ArrayList<>();

  private Inspection(ModelReaders.Loaded loaded, RewriteOptions options) {
    this.loaded = loaded;
    this.options = options;
    Model m = loaded.model();
    GraphView g = GraphView.of(m.graph());
    this.nodes = g.size();
    Set<String> serving = g.ancestors(m.outputNodes());
    this.servingNodes = (int) serving.stream().filter(g::contains).count();
    this.ops = histogram(g, serving);
    loaded.warnings().forEach(w -> warnings.add("reader: " + w));
  }

  /** Inspects a model read by {@link ModelInput}; {@code options} decide "what would change". */
  static Inspection of(ModelReaders.Loaded loaded, RewriteOptions options) {
    Inspection i = new Inspection(loaded, options);
    i.analyse();
    return i;
  }

  private void analyse() {
    List<RewritePass> all = DksRewrite.pipeline(options).build().passes();
    Model prepared = loaded.model();
    Pipeline.Builder prep = Pipeline.builder().verifier(new StructuralVerifier());
    all.stream().filter(p -> PREPARATION.contains(p.name())).forEach(prep::add);
    try {
      Pipeline.Result r = prep.build().run(prepared);
      prepared = r.model();
      preparation.addAll(r.outcomes());
    } catch (RuntimeException e) {
      warnings.add("the preparation passes failed, the model is analysed as read: "
          + e.getMessage());
    }
    GraphView g = GraphView.of(prepared.graph());
    preparedGraph = prepared.graph();
    NormalizationMatcher.Result nr = NormalizationMatcher.scan(g);
    norms.addAll(nr.matches());
    nr.notes().forEach(n -> warnings.add("normalization: " + n));
    Set<String> serving = g.ancestors(prepared.outputNodes());
    for (NodeDef n : g.nodes()) {
      if (n.getOp().equals("MaxPool") && serving.contains(n.getName())) {
        maxPools++;
      }
    }
    if (prepared.inputNodes().isEmpty() || prepared.outputNodes().isEmpty()) {
      warnings.add("the signatures name no inputs or no outputs: the structure is not analysed");
    } else {
      try {
        // Sin/Cos are activations only where the model's shaping record declares them (as in
        // verify); a record that does not read leaves them undeclared
        Map<String, String> declared;
        try {
          declared = ModelShaping.declaredSites(ModelShaping.read(loaded.path()));
        } catch (RuntimeException e) {
          declared = Map.of();
        }
        analysis = StructureAnalyzer.analyze(g, prepared.inputNodes(), prepared.outputNodes(),
            null, declared);
        analysis.warnings().forEach(w -> warnings.add("analysis: " + w));
        bodyConditionals = BodyConditionals.find(g, analysis.body());
      } catch (RuntimeException e) {
        warnings.add("the structure analysis failed: " + e.getMessage());
      }
    }
    if (analysis != null) {
      Set<String> consts = new LinkedHashSet<>();
      for (LayerSite l : analysis.layers()) {
        layers.add(new Layer(l, shapeOf(g, prepared, l.kernelVariable())));
        for (String v : List.of(l.kernelVariable(), l.biasVariable())) {
          if (!v.isEmpty() && g.contains(v) && g.get(v).getOp().equals("Const")) {
            consts.add(v);
          }
        }
      }
      layerConstants = consts.size();
    }
    for (RewritePass p : all) {
      changes.add(change(p));
    }
  }

  private Change change(RewritePass p) {
    Optional<PassOutcome> done = preparation.stream().filter(o -> o.pass().equals(p.name()))
        .findFirst();
    if (done.isPresent()) {
      PassOutcome o = done.get();
      String detail = o.notes().isEmpty() ? "" : o.notes().get(0)
          + (o.notes().size() > 1 ? " (+" + (o.notes().size() - 1) + " more)" : "");
      return new Change(p.name(), p.description(), o.changes(), detail);
    }
    boolean analysed = analysis != null;
    return switch (p.name()) {
      case BodyCheckPass.NAME -> new Change(p.name(), p.description(),
          analysed ? 0 : null, bodyConditionals.isEmpty() ? "no tf.cond in the body"
              : "refuses: " + bodyConditionals.size() + " Switch/Merge nodes of a tf.cond in the "
              + "body (e.g. '" + bodyConditionals.get(0) + "')");
      case "constants-to-variables" -> new Change(p.name(), p.description(),
          analysed ? layerConstants : null, layerConstants + " layer kernel/bias constants "
              + "become variables");
      case StripNormalizationPass.NAME -> new Change(p.name(), p.description(), norms.size(),
          norms.isEmpty() ? "no normalization" : normSummary() + " removed");
      case "skips" -> {
        int n = analysed ? analysis.residualMerges().size() : 0;
        yield new Change(p.name(), p.description(), analysed ? n : null,
            n == 0 ? "no residual merge" : options.shortcutWeight() == 0
                ? n + " residual merges removed (shortcut branches pruned)"
                : n + " residual merges become sqrt(1-w^2)*residual + w*shortcut, w = "
                    + options.shortcutWeight());
      }
      case "max-pool" -> new Change(p.name(), p.description(),
          options.keepMaxPool() ? 0 : maxPools, maxPools == 0 ? "no max-pool"
              : options.keepMaxPool() ? maxPools + " max-pools kept"
              : maxPools + " max-pools become average pools");
      case "shape-activations" -> new Change(p.name(), p.description(),
          analysed ? analysis.activations().size() : null, activationSummary());
      case "pln" -> {
        List<String> floats = floatInputs();
        yield new Change(p.name(), p.description(), floats.size(), floats.isEmpty()
            ? "no float32 input to normalize" : "per-location normalization after "
            + String.join(", ", floats));
      }
      case "dks-init" -> {
        long n = layers.stream().filter(l -> !l.site().kernelVariable().isEmpty()).count();
        yield new Change(p.name(), p.description(), analysed ? (int) n : null,
            n + " layers re-initialized, biases zeroed");
      }
      default -> new Change(p.name(), p.description(), null, "not predicted by inspect");
    };
  }

  private List<String> floatInputs() {
    Set<String> names = new LinkedHashSet<>();
    for (Signature s : loaded.model().signatures()) {
      for (TensorSpec t : s.inputs().values()) {
        // a scalar (rank 0) input is left alone by pln (InputNormalizationPass)
        if (t.dtype() == DataType.DT_FLOAT && (t.shape() == null || t.shape().length > 0)) {
          names.add("'" + t.tensor().node() + "'");
        }
      }
    }
    return List.copyOf(names);
  }

  private String normSummary() {
    Map<String, Integer> kinds = new LinkedHashMap<>();
    for (NormalizationMatch m : norms) {
      String what = m.describe().replaceAll(" \\(.*", "") + " (" + switch (m.form()) {
        case FUSED_OP -> "fused op";
        case WRITTEN_OUT -> "written out";
        case RESHAPED_FUSED_OP -> "Keras reshape + fused op";
      } + ")";
      kinds.merge(what, 1, Integer::sum);
    }
    List<String> parts = new ArrayList<>();
    kinds.forEach((k, n) -> parts.add(n + " " + k));
    return String.join(", ", parts);
  }

  private String activationSummary() {
    if (analysis == null) {
      return "not analysed";
    }
    if (analysis.activations().isEmpty()) {
      return "no activation on the path";
    }
    ActivationPolicy policy = ActivationPolicy.defaults(options.method());
    if (options.activation() != null) {
      policy = policy.all(options.activation());
    }
    policy = policy.forBody(activationKinds().keySet());
    List<String> parts = new ArrayList<>();
    for (Map.Entry<String, Integer> e : activationKinds().entrySet()) {
      parts.add(e.getValue() + " " + e.getKey() + " -> " + options.method() + "-shaped "
          + policy.target(e.getKey()));
    }
    return String.join(", ", parts);
  }

  /** Activation kinds on the path with their counts, in order of first appearance. */
  Map<String, Integer> activationKinds() {
    Map<String, Integer> m = new LinkedHashMap<>();
    if (analysis != null) {
      analysis.activations().forEach(s -> m.merge(s.kind(), 1, Integer::sum));
    }
    return m;
  }

  private static long[] shapeOf(GraphView g, Model m, String node) {
    if (node.isEmpty()) {
      return null;
    }
    TensorProto v = m.variables().get(node);
    if (v != null) {
      return TensorProtos.shape(v);
    }
    if (!g.contains(node)) {
      return null;
    }
    NodeDef n = g.get(node);
    if (n.getOp().equals("Const") && n.containsAttr("value")) {
      return TensorProtos.shape(n.getAttrOrThrow("value").getTensor());
    }
    AttrValue s = n.getAttrOrDefault("shape", null);
    if (s != null && s.hasShape() && !s.getShape().getUnknownRank()) {
      return s.getShape().getDimList().stream().mapToLong(d -> d.getSize()).toArray();
    }
    return null;
  }

  private static Map<String, Integer> histogram(GraphView g, Set<String> names) {
    Map<String, Integer> counts = new LinkedHashMap<>();
    for (NodeDef n : g.nodes()) {
      if (names.contains(n.getName())) {
        counts.merge(n.getOp(), 1, Integer::sum);
      }
    }
    List<Map.Entry<String, Integer>> sorted = new ArrayList<>(counts.entrySet());
    sorted.sort(Map.Entry.<String, Integer>comparingByValue(Comparator.reverseOrder())
        .thenComparing(Map.Entry.comparingByKey()));
    Map<String, Integer> out = new LinkedHashMap<>();
    sorted.forEach(e -> out.put(e.getKey(), e.getValue()));
    return out;
  }

  // ---------------------------------------------------------------- output

  /** The JSON object. */
  ObjectNode json() {
    ObjectNode root = Json.object();
    root.put("model", loaded.path().toString());
    root.put("format", loaded.format().label());
    ArrayNode sigs = root.putArray("signatures");
    for (Signature s : loaded.model().signatures()) {
      ObjectNode o = sigs.addObject();
      o.put("key", s.key());
      o.put("method_name", s.methodName());
      tensors(o.putObject("inputs"), s.inputs());
      tensors(o.putObject("outputs"), s.outputs());
    }
    ObjectNode counts = root.putObject("counts");
    counts.put("nodes", nodes);
    counts.put("serving_path_nodes", servingNodes);
    counts.put("variables", loaded.model().variables().size());
    counts.put("parameters", parameters(loaded.model()));
    counts.put("layers", layers.size());
    counts.put("activations", analysis == null ? 0 : analysis.activations().size());
    counts.put("normalizations", norms.size());
    counts.put("residual_merges", analysis == null ? 0 : analysis.residualMerges().size());
    counts.put("concats", analysis == null ? 0 : (int) analysis.merges().stream()
        .filter(m -> m.kind().equals("concat")).count());
    counts.put("max_pools", maxPools);
    if (analysis == null) {
      root.putNull("structure_depth");
    } else {
      root.put("structure_depth", analysis.dag().depth());
    }
    if (analysis != null) {
      counts.put("body_nodes", analysis.body().size());
      counts.put("head_nodes", headNodes().size());
      bodyHeadJson(root.putObject("body_head"));
    } else {
      root.putNull("body_head");
    }
    ObjectNode opsNode = root.putObject("ops");
    ops.forEach(opsNode::put);
    ArrayNode ls = root.putArray("layers");
    for (Layer l : layers) {
      ObjectNode o = ls.addObject();
      o.put("node", l.site().node());
      o.put("op", l.site().op());
      putOrNull(o, "kernel", l.site().kernelVariable());
      Json.putShape(o, "kernel_shape", l.kernelShape());
      putOrNull(o, "bias", l.site().biasVariable());
    }
    ObjectNode acts = root.putObject("activations");
    activationKinds().forEach(acts::put);
    ArrayNode sites = root.putArray("activation_sites");
    if (analysis != null) {
      for (ActivationSite s : analysis.activations()) {
        ObjectNode o = sites.addObject();
        o.put("node", s.output());
        o.put("kind", s.kind());
        if (!Double.isNaN(s.parameter())) {
          o.put("parameter", s.parameter());
        }
      }
    }
    ArrayNode ns = root.putArray("normalizations");
    for (NormalizationMatch m : norms) {
      ObjectNode o = ns.addObject();
      o.put("node", m.anchor());
      o.put("kind", m.kind().name().toLowerCase(Locale.ROOT));
      o.put("form", m.form().name().toLowerCase(Locale.ROOT));
      o.put("batch_statistics", m.batchStatistics());
      o.put("description", m.describe());
    }
    ArrayNode ms = root.putArray("merges");
    if (analysis != null) {
      for (MergeSite m : analysis.merges()) {
        ObjectNode o = ms.addObject();
        o.put("node", m.node());
        o.put("kind", m.kind());
        if (m.kind().equals("residual")) {
          o.put("residual", m.residual().toString());
          o.put("shortcut", m.shortcut().toString());
          o.put("branch_depth", m.branchDepth());
          o.put("normalized", m.isNormalized());
          ArrayNode operands = o.putArray("operands");
          m.operands().forEach(t -> operands.add(t.toString()));
        }
      }
    }
    ArrayNode ws = root.putArray("warnings");
    warnings.forEach(ws::add);
    ObjectNode would = root.putObject("would_change");
    would.put("method", options.method().name());
    if (options.activation() == null) {
      would.putNull("activation");
    } else {
      would.put("activation", options.activation());
    }
    ArrayNode ps = would.putArray("passes");
    for (Change c : changes) {
      ObjectNode o = ps.addObject();
      o.put("pass", c.pass());
      o.put("description", c.description());
      if (c.count() == null) {
        o.putNull("count");
      } else {
        o.put("count", c.count());
      }
      o.put("detail", c.detail());
    }
    return root;
  }

  /**
   * The body/head split as JSON: {@code body_nodes}, {@code body_ops} (op counts), and per output
   * node {@code outputs.NAME}: {@code head_nodes}, {@code head_ops}, {@code body_outputs} (the
   * body tensors its head reads).
   */
  private void bodyHeadJson(ObjectNode o) {
    GraphView g = GraphView.of(preparedGraph);
    o.put("body_nodes", analysis.body().size());
    ObjectNode bodyOps = o.putObject("body_ops");
    opCounts(g, analysis.body()).forEach(bodyOps::put);
    ObjectNode outs = o.putObject("outputs");
    analysis.head().forEach((out, nodes) -> {
      ObjectNode h = outs.putObject(out);
      h.put("head_nodes", nodes.size());
      ObjectNode hops = h.putObject("head_ops");
      opCounts(g, nodes).forEach(hops::put);
      ArrayNode bo = h.putArray("body_outputs");
      analysis.bodyOutputs().getOrDefault(out, List.of()).forEach(t -> bo.add(t.toString()));
    });
  }

  /** Every head node (of any output), once. */
  private Set<String> headNodes() {
    Set<String> all = new LinkedHashSet<>();
    analysis.head().values().forEach(all::addAll);
    return all;
  }

  /** Op histogram of {@code names}, most frequent first. */
  private static Map<String, Integer> opCounts(GraphView g, java.util.Collection<String> names) {
    Map<String, Integer> c = new LinkedHashMap<>();
    for (String n : names) {
      if (g.contains(n)) {
        c.merge(g.get(n).getOp(), 1, Integer::sum);
      }
    }
    Map<String, Integer> sorted = new LinkedHashMap<>();
    c.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()
        .thenComparing(Map.Entry.comparingByKey())).forEach(e -> sorted.put(e.getKey(),
        e.getValue()));
    return sorted;
  }

  private static void putOrNull(ObjectNode o, String key, String value) {
    if (value.isEmpty()) {
      o.putNull(key);
    } else {
      o.put(key, value);
    }
  }

  private static void tensors(ObjectNode o, Map<String, TensorSpec> specs) {
    for (Map.Entry<String, TensorSpec> e : specs.entrySet()) {
      ObjectNode t = o.putObject(e.getKey());
      t.put("tensor", e.getValue().tensor().node() + ":" + e.getValue().tensor().index());
      t.put("dtype", e.getValue().dtype().name());
      Json.putShape(t, "shape", e.getValue().shape());
    }
  }

  static long parameters(Model m) {
    long n = 0;
    for (TensorProto t : m.variables().values()) {
      long c = 1;
      for (long d : TensorProtos.shape(t)) {
        c *= d;
      }
      n += c;
    }
    return n;
  }

  /** The readable summary, ending with a newline. */
  String text() {
    StringBuilder b = new StringBuilder();
    Model m = loaded.model();
    line(b, "model: %s (%s)", loaded.path(), loaded.format().label());
    for (Signature s : m.signatures()) {
      line(b, "signature %s (%s): %s -> %s", s.key(), s.methodName(), specs(s.inputs()),
          specs(s.outputs()));
    }
    line(b, "nodes: %d (%d on the serving path), variables: %d (%,d parameters)", nodes,
        servingNodes, m.variables().size(), parameters(m));
    StringBuilder o = new StringBuilder();
    ops.forEach((k, v) -> o.append(o.length() == 0 ? "" : ", ").append(k).append(' ').append(v));
    line(b, "ops on the serving path: %s", o);
    Map<String, Integer> layerOps = new LinkedHashMap<>();
    layers.forEach(l -> layerOps.merge(l.site().op(), 1, Integer::sum));
    line(b, "layers: %d%s", layers.size(), layerOps.isEmpty() ? "" : " (" + join(layerOps) + ")");
    for (Layer l : layers) {
      line(b, "  %-36s %-22s kernel %s %s%s", l.site().node(), l.site().op(),
          l.site().kernelVariable().isEmpty() ? "(computed)" : l.site().kernelVariable(),
          Json.shape(l.kernelShape()), l.site().biasVariable().isEmpty() ? ""
              : ", bias " + l.site().biasVariable());
    }
    Map<String, Integer> kinds = activationKinds();
    line(b, "activations: %d%s", analysis == null ? 0 : analysis.activations().size(),
        kinds.isEmpty() ? "" : " (" + join(kinds) + ")");
    line(b, "normalizations: %d%s", norms.size(), norms.isEmpty() ? "" : " (" + normSummary()
        + ")");
    for (NormalizationMatch n : norms) {
      line(b, "  %s", n.describe());
    }
    List<MergeSite> merges = analysis == null ? List.of() : analysis.merges();
    long residual = merges.stream().filter(x -> x.kind().equals("residual")).count();
    line(b, "merges: %d residual, %d concat", residual, merges.size() - residual);
    for (MergeSite x : merges) {
      if (x.kind().equals("residual")) {
        line(b, "  %-36s residual %s + %s %s (branch depth %d%s)", x.node(), x.residual(),
            x.operands().size() == 2 ? "shortcut" : "shortcuts",
            x.operands().size() == 2 ? x.shortcut().toString()
                : x.operands().subList(1, x.operands().size()).toString(), x.branchDepth(),
            x.isNormalized() ? ", normalized" : "");
      } else {
        line(b, "  %-36s concat", x.node());
      }
    }
    if (analysis != null) {
      GraphView g = GraphView.of(preparedGraph);
      line(b, "body: %d nodes (%s); head: %d nodes after the last layer, left as they are",
          analysis.body().size(), join(opCounts(g, analysis.body())), headNodes().size());
      analysis.head().forEach((out, nodes) -> {
        List<String> reads = analysis.bodyOutputs().getOrDefault(out, List.of()).stream()
            .map(Object::toString).toList();
        line(b, "  head of %-28s %d nodes%s, reads %s", "'" + out + "':", nodes.size(),
            nodes.isEmpty() ? "" : " (" + first(join(opCounts(g, nodes)), 8) + ")",
            reads.size() <= 3 ? reads : reads.subList(0, 3) + " (+" + (reads.size() - 3)
                + " more)");
      });
    }
    line(b, "max-pools: %d", maxPools);
    line(b, "structure depth: %s (nonlinear layers in series)",
        analysis == null ? "n/a" : Integer.toString(analysis.dag().depth()));
    line(b, "warnings: %s", warnings.isEmpty() ? "none" : Integer.toString(warnings.size()));
    for (String w : warnings) {
      line(b, "  %s", w);
    }
    line(b, "what 'dks rewrite' would change (%s%s):", options.method(),
        options.activation() == null ? "" : ", every activation " + options.activation());
    for (Change c : changes) {
      line(b, "  %-24s %5s  %s", c.pass(), c.count() == null ? "?" : c.count().toString(),
          c.detail());
    }
    return b.toString();
  }

  private static String specs(Map<String, TensorSpec> specs) {
    List<String> parts = new ArrayList<>();
    specs.forEach((k, t) -> parts.add(k + "=" + t.tensor().node() + ":" + t.tensor().index() + " "
        + t.dtype().name().replace("DT_", "").toLowerCase(Locale.ROOT) + Json.shape(t.shape())));
    return String.join(", ", parts);
  }

  /** The first {@code n} comma-separated parts of {@code list}, then ", ...". */
  private static String first(String list, int n) {
    String[] parts = list.split(", ");
    return parts.length <= n ? list
        : String.join(", ", java.util.Arrays.copyOf(parts, n)) + ", ...";
  }

  private static String join(Map<String, Integer> counts) {
    List<String> parts = new ArrayList<>();
    counts.forEach((k, v) -> parts.add(v + " " + k));
    return String.join(", ", parts);
  }

  private static void line(StringBuilder b, String format, Object... args) {
    b.append(String.format(Locale.ROOT, format, args).stripTrailing())
        .append(System.lineSeparator());
  }
}
