package dev.dks.savedmodels.tfjs;

import static dev.dks.savedmodels.ReaderMessages.abbreviate;
import static dev.dks.savedmodels.ReaderMessages.firstLine;

import dev.dks.rewriter.graph.GraphImport;
import dev.dks.rewriter.safety.TensorBounds;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.OpRegistry;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorSpec;
import dev.dks.rewriter.passes.fused.FusedOpMatcher;
import dev.dks.rewriter.passes.fused.SplitFusedOpsPass;
import dev.dks.rewriter.pipeline.GraphVerificationException;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.pipeline.StructuralVerifier;
import dev.dks.savedmodels.BoundedFiles;
import dev.dks.savedmodels.ModelFormatException;
import dev.dks.savedmodels.TensorValues;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Logger;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Reads a TensorFlow.js graph model ({@code model.json} with {@code format: "graph-model"} and its
 * binary weight shards) into a {@link Model}: a GraphDef whose weights are {@code Const} nodes, no
 * variables, and one {@code serving_default} signature (method {@code
 * tensorflow/serving/predict}).
 *
 * <ul>
 *   <li>{@code modelTopology} is a GraphDef in proto3 JSON form; it is mapped field by field
 *       ({@code node} with {@code name}/{@code op}/{@code input}/{@code attr}, attribute values
 *       such as {@code {"type":"DT_FLOAT"}}, {@code {"list":{"i":["1","1"]}}}, {@code
 *       {"s":"<base64>"}}, {@code {"shape":...}}, {@code {"tensor":...}}, and the function
 *       library). JSON fields the protos do not have are skipped with a warning.
 *   <li>{@code weightsManifest} is read by {@link TfjsWeights} (uint8/uint16/float16
 *       dequantized); each weight becomes the {@code value} of the {@code Const} node of the same
 *       name, after checking its dtype and shape against the node. A weight the TF.js converter
 *       stored narrower than its node's dtype (float32 for {@code DT_DOUBLE}, int32 for {@code
 *       DT_INT64}) is widened exactly to it ({@link NarrowedWeights}), with a warning.
 *   <li>The signature comes from {@code signature} or {@code userDefinedMetadata.signature}
 *       (TensorInfo JSON keyed by names such as {@code input:0}; a trailing {@code :0} is dropped
 *       from the key); without one, the inputs are the Placeholders and the outputs the graph's
 *       sinks, keyed by node name. Dtypes and shapes the signature does not give, or gives
 *       inconsistently with the graph (with a warning), come from the imported graph.
 *   <li>TF.js-only ops are split into standard ones by a {@link Pipeline}: {@link SplitPreluPass}
 *       ({@code Prelu}), then {@link SplitFusedOpsPass} ({@code _FusedConv2D}, {@code
 *       FusedDepthwiseConv2dNative}, {@code _FusedMatMul}), with a {@link StructuralVerifier}
 *       after the last pass (not before the first: the fused TF.js ops are not registered in
 *       TensorFlow). The result is imported into TensorFlow once to check it.
 * </ul>
 *
 * <p>Every failure is a {@link ModelFormatException} naming the file (and the node, weight or
 * op): unreadable or invalid JSON, a layers model or other non-graph format, a missing or
 * truncated shard, shards longer than the manifest, unknown weight dtype or quantization, a
 * weight whose dtype or shape disagrees with its node, a {@code Const} without a value, an op
 * TensorFlow does not know, a fused op the passes cannot split, a graph TensorFlow rejects. The
 * reader writes nothing, so a failure leaves no partial output. Warnings go to {@code
 * java.util.logging} and into {@link Result#warnings()}.
 */
public final class TfjsGraphModelReader {
  private static final Logger LOG = Logger.getLogger(TfjsGraphModelReader.class.getName());

  /** Ops that are never a model output even when nothing reads them. */
  private static final Set<String> NOT_OUTPUTS = Set.of("Const", "NoOp", "Placeholder",
      "PlaceholderWithDefault", "Assert", "Print", "PrintV2");

  private TfjsGraphModelReader() {}

  /**
   * What a read produced.
   *
   * @param model the model: graph with standard ops only, weights as Const, serving_default
   * @param warnings what was skipped or guessed, one line each
   * @param passes what the split passes did
   */
  public record Result(Model model, List<String> warnings, List<PassOutcome> passes) {
    /** Copies the lists. */
    public Result {
      warnings = List.copyOf(warnings);
      passes = List.copyOf(passes);
    }
  }

  /** Reads the graph model {@code modelJson} (or the {@code model.json} in that folder). */
  public static Model read(Path modelJson) {
    return readDetailed(modelJson).model();
  }

  /**
   * Reads the graph model {@code modelJson} (or the {@code model.json} in that folder).
   *
   * @throws ModelFormatException naming the file (and the node, weight or op) on any problem
   */
  public static Result readDetailed(Path modelJson) {
    Path abs = modelJson.toAbsolutePath().normalize();
    if (Files.isDirectory(abs)) {
      abs = abs.resolve("model.json");
    }
    Object root = parseJsonFile(abs);
    if (!(root instanceof Map<?, ?> json)) {
      throw bad(abs, "is not a TensorFlow.js model.json: the JSON is " + ProtoJson.kind(root)
          + ", not an object");
    }
    Object topology = json.get("modelTopology");
    checkGraphFormat(abs, json, topology);
    List<String> warnings = new ArrayList<>();

    GraphDef.Builder gb = GraphDef.newBuilder();
    Set<String> unknown = new LinkedHashSet<>();
    try {
      ProtoJson.merge(topology, gb, "modelTopology",
          p -> unknown.add(p.replaceAll("\\[\\d+\\](\\('[^']*'\\))?", "[]")));
    } catch (ProtoJson.ProtoJsonException e) {
      throw bad(abs, "modelTopology is not a valid GraphDef: " + e.getMessage());
    }
    unknown.forEach(p -> warnings.add("skipped JSON field " + p + ": not a field of the "
        + "TensorFlow protos"));
    if (json.get("modelInitializer") instanceof Map<?, ?> init
        && init.get("node") instanceof List<?> initNodes && !initNodes.isEmpty()) {
      throw bad(abs, "has a modelInitializer graph (" + initNodes.size() + " nodes, e.g. hash "
          + "table initialization), which this reader does not support");
    }
    GraphView view;
    try {
      view = GraphView.of(gb.build());
    } catch (IllegalArgumentException e) {
      throw bad(abs, "modelTopology is not a valid graph: " + e.getMessage());
    }
    if (view.size() == 0) {
      throw bad(abs, "modelTopology holds no nodes");
    }

    Map<String, TensorProto> weights = TfjsWeights.read(abs, json.get("weightsManifest"));
    setWeights(abs, view, weights, warnings);
    try {
      TensorBounds.requireWithin(view.toGraphDef());
    } catch (TensorBounds.TensorBoundsException e) {
      throw bad(abs, e.getMessage());
    }
    checkOps(abs, view);

    SignatureJson sig = signatureJson(abs, json);
    Signature provisional = provisionalSignature(abs, view, sig, warnings);
    Model model = new Model(view.toGraphDef(), Map.of(), List.of(provisional));

    Pipeline pipeline = Pipeline.builder().add(new SplitPreluPass())
        .add(new SplitFusedOpsPass()).finalVerifier(new StructuralVerifier()).build();
    Pipeline.Result split;
    try {
      split = pipeline.run(model);
    } catch (GraphVerificationException e) {
      throw bad(abs, "the graph is not valid once its TF.js-only ops are split: "
          + e.getMessage());
    } catch (RuntimeException e) {
      throw new ModelFormatException(abs + ": splitting the TF.js-only ops failed: " + e, e);
    }
    checkNothingLeft(abs, GraphView.of(split.model().graph()), split.outcomes());

    Signature finalSig = finalSignature(abs, split.model().graph(), provisional, sig != null,
        warnings);
    Model out = new Model(split.model().graph(), Map.of(), List.of(finalSig));
    for (String w : warnings) {
      LOG.warning(abs + ": " + w);
    }
    return new Result(out, warnings, split.outcomes());
  }

  /** Reads and parses a JSON file, failing with a message naming it. */
  static Object parseJsonFile(Path abs) {
    byte[] bytes;
    try {
      bytes = BoundedFiles.readAllBytes(abs);
    } catch (NoSuchFileException e) {
      throw new ModelFormatException(abs + " does not exist");
    } catch (IOException e) {
      throw new ModelFormatException(abs + ": cannot read the file: " + e, e);
    }
    try {
      return Json.parse(bytes);
    } catch (Json.JsonException e) {
      throw new ModelFormatException(abs + " is not a TensorFlow.js model.json: not valid JSON ("
          + e.getMessage() + ")", e);
    }
  }

  private static void checkGraphFormat(Path abs, Map<?, ?> json, Object topology) {
    Object format = json.get("format");
    boolean layers = "layers-model".equals(format) || (topology instanceof Map<?, ?> t
        && (t.containsKey("model_config") || t.containsKey("class_name")));
    if (layers) {
      throw bad(abs, "is a TensorFlow.js layers model (Keras), not a graph model");
    }
    if (format != null && !"graph-model".equals(format)) {
      throw bad(abs, "has format " + ProtoJson.kind(format) + ", not \"graph-model\"");
    }
    if (!(topology instanceof Map<?, ?> t) || !(t.get("node") instanceof List)) {
      throw bad(abs, "is not a TensorFlow.js graph model: it has no modelTopology with a node "
          + "list" + (json.isEmpty() ? "" : " (top-level keys: " + json.keySet() + ")"));
    }
  }

  /** Makes each weight the value of its Const node; checks dtype, shape and unset Consts. */
  private static void setWeights(Path abs, GraphView view, Map<String, TensorProto> weights,
      List<String> warnings) {
    List<String> unused = new ArrayList<>();
    Map<String, List<String>> widened = new LinkedHashMap<>();
    for (Map.Entry<String, TensorProto> e : weights.entrySet()) {
      String name = e.getKey();
      TensorProto t = e.getValue();
      NodeDef n = view.find(name).orElse(null);
      if (n == null) {
        unused.add("'" + name + "'");
        continue;
      }
      if (!n.getOp().equals("Const")) {
        throw bad(abs, "weight '" + name + "' names a " + n.getOp() + " node, not a Const");
      }
      AttrValue dtypeAttr = n.getAttrOrDefault("dtype", null);
      AttrValue valueAttr = n.getAttrOrDefault("value", null);
      DataType nodeType = dtypeAttr != null ? dtypeAttr.getType()
          : valueAttr != null && valueAttr.hasTensor() ? valueAttr.getTensor().getDtype()
          : DataType.DT_INVALID;
      if (NarrowedWeights.canWiden(t.getDtype(), nodeType)) {
        widened.computeIfAbsent(t.getDtype() + " -> " + nodeType, k -> new ArrayList<>())
            .add("'" + name + "'");
        t = NarrowedWeights.widen(t, nodeType);
      }
      if (dtypeAttr != null && dtypeAttr.getType() != t.getDtype()) {
        throw bad(abs, "weight '" + name + "' is " + t.getDtype() + " but its Const node has "
            + "dtype " + dtypeAttr.getType());
      }
      if (valueAttr != null && valueAttr.hasTensor()) {
        TensorProto declared = valueAttr.getTensor();
        if (declared.getDtype() != DataType.DT_INVALID && declared.getDtype() != t.getDtype()) {
          throw bad(abs, "weight '" + name + "' is " + t.getDtype() + " but its Const node's "
              + "value is declared " + declared.getDtype());
        }
        if (declared.hasTensorShape() && !declared.getTensorShape().getUnknownRank()) {
          long[] want = dims(declared.getTensorShape());
          long[] got = dims(t.getTensorShape());
          if (!Arrays.equals(want, got)) {
            throw bad(abs, "weight '" + name + "' has shape " + Arrays.toString(got)
                + " in weightsManifest but its Const node declares " + Arrays.toString(want));
          }
        }
      }
      view.put(n.toBuilder().putAttr("value", AttrValue.newBuilder().setTensor(t).build())
          .putAttr("dtype", AttrValue.newBuilder().setType(t.getDtype()).build()).build());
    }
    widened.forEach((how, names) -> warnings.add("widened " + names.size() + " weight"
        + (names.size() == 1 ? "" : "s") + " that the TF.js converter stored narrower than "
        + "their Const node's dtype (" + how + ", exact): " + abbreviate(names)));
    if (!unused.isEmpty()) {
      warnings.add("weights that match no node, ignored: " + abbreviate(unused));
    }
    for (NodeDef n : view.nodes()) {
      if (n.getOp().equals("Const") && !weights.containsKey(n.getName()) && !hasValue(n)) {
        throw bad(abs, "Const node '" + n.getName() + "' has no value: weightsManifest has no "
            + "weight of that name");
      }
    }
  }

  private static boolean hasValue(NodeDef n) {
    AttrValue v = n.getAttrOrDefault("value", null);
    if (v == null || !v.hasTensor()) {
      return false;
    }
    TensorProto t = v.getTensor();
    long count = 1;
    for (long d : dims(t.getTensorShape())) {
      count *= d;
    }
    return count == 0 || !t.getTensorContent().isEmpty() || t.getFloatValCount() > 0
        || t.getDoubleValCount() > 0 || t.getIntValCount() > 0 || t.getInt64ValCount() > 0
        || t.getBoolValCount() > 0 || t.getStringValCount() > 0 || t.getHalfValCount() > 0
        || t.getUint32ValCount() > 0 || t.getUint64ValCount() > 0
        || t.getScomplexValCount() > 0 || t.getDcomplexValCount() > 0
        || t.getResourceHandleValCount() > 0 || t.getVariantValCount() > 0;
  }

  /** Fails naming every op neither TensorFlow nor the split passes know. */
  private static void checkOps(Path abs, GraphView view) {
    OpRegistry ops = OpRegistry.get();
    Set<String> functions = new java.util.HashSet<>();
    view.library().getFunctionList().forEach(f -> functions.add(f.getSignature().getName()));
    Map<String, String> unknown = new LinkedHashMap<>();
    for (NodeDef n : view.nodes()) {
      String op = n.getOp();
      if (op.isEmpty()) {
        throw bad(abs, "node '" + n.getName() + "' has no op");
      }
      if (!ops.contains(op) && !functions.contains(op) && !op.equals("Prelu")
          && !FusedOpMatcher.isFusedContraction(op)) {
        unknown.putIfAbsent(op, n.getName());
      }
    }
    if (!unknown.isEmpty()) {
      List<String> d = new ArrayList<>();
      unknown.forEach((op, node) -> d.add("'" + op + "' (node '" + node + "')"));
      throw bad(abs, "uses ops that TensorFlow " + org.tensorflow.TensorFlow.version()
          + " does not know: " + abbreviate(d));
    }
  }

  private static void checkNothingLeft(Path abs, GraphView g, List<PassOutcome> outcomes) {
    for (NodeDef n : g.nodes()) {
      if (FusedOpMatcher.isFusedContraction(n.getOp()) || n.getOp().equals("Prelu")) {
        List<String> notes = new ArrayList<>();
        outcomes.forEach(o -> o.notes().stream().filter(s -> s.contains("'" + n.getName() + "'"))
            .forEach(notes::add));
        throw bad(abs, "node '" + n.getName() + "' (" + n.getOp() + ") cannot be split into "
            + "standard TensorFlow ops" + (notes.isEmpty() ? "" : ": " + String.join("; ",
            notes)));
      }
    }
  }

  /** The signature of model.json: its TensorInfo maps, or null when it has none. */
  private record SignatureJson(Map<String, TensorInfo> inputs, Map<String, TensorInfo> outputs) {}

  private static SignatureJson signatureJson(Path abs, Map<?, ?> json) {
    Object s = json.get("signature");
    String where = "signature";
    if (s == null && json.get("userDefinedMetadata") instanceof Map<?, ?> meta) {
      s = meta.get("signature");
      where = "userDefinedMetadata.signature";
    }
    if (s == null) {
      return null;
    }
    if (!(s instanceof Map<?, ?> sm)) {
      throw bad(abs, where + " is " + ProtoJson.kind(s) + ", expected an object");
    }
    return new SignatureJson(tensorInfos(abs, sm.get("inputs"), where + ".inputs"),
        tensorInfos(abs, sm.get("outputs"), where + ".outputs"));
  }

  private static Map<String, TensorInfo> tensorInfos(Path abs, Object o, String where) {
    Map<String, TensorInfo> out = new LinkedHashMap<>();
    if (o == null) {
      return out;
    }
    if (!(o instanceof Map<?, ?> m)) {
      throw bad(abs, where + " is " + ProtoJson.kind(o) + ", expected an object");
    }
    for (Map.Entry<?, ?> e : m.entrySet()) {
      TensorInfo.Builder b = TensorInfo.newBuilder();
      try {
        ProtoJson.merge(e.getValue(), b, where + "." + e.getKey(), p -> { });
      } catch (ProtoJson.ProtoJsonException ex) {
        throw bad(abs, ex.getMessage());
      }
      out.put((String) e.getKey(), b.build());
    }
    return out;
  }

  /**
   * The signature before splitting: tensors named, dtypes and shapes as model.json or the
   * Placeholders give them ({@code DT_INVALID} / null when unknown, settled after import).
   */
  private static Signature provisionalSignature(Path abs, GraphView view, SignatureJson sig,
      List<String> warnings) {
    if (sig != null) {
      Map<String, TensorSpec> ins = fromJson(view, sig.inputs(), "input", warnings);
      Map<String, TensorSpec> outs = fromJson(view, sig.outputs(), "output", warnings);
      if (ins != null && outs != null && !ins.isEmpty() && !outs.isEmpty()) {
        return new Signature(Signature.SERVING_DEFAULT, Signature.PREDICT_METHOD, ins, outs);
      }
      warnings.add("the model.json signature is unusable (see above, or it lists no inputs or "
          + "no outputs); using the Placeholders as inputs and the sinks as outputs");
    }
    Map<String, TensorSpec> ins = new LinkedHashMap<>();
    Map<String, TensorSpec> outs = new LinkedHashMap<>();
    for (NodeDef n : view.nodes()) {
      if (n.getOp().equals("Placeholder")) {
        ins.put(n.getName(), new TensorSpec(TensorName.of(n.getName(), 0),
            n.containsAttr("dtype") ? n.getAttrOrThrow("dtype").getType() : DataType.DT_INVALID,
            placeholderShape(n)));
      } else if (view.consumers(n.getName()).isEmpty() && !NOT_OUTPUTS.contains(n.getOp())
          && OpRegistry.get().outputCount(n) != 0) {
        outs.put(n.getName(), new TensorSpec(TensorName.of(n.getName(), 0), DataType.DT_INVALID,
            null));
      }
    }
    if (ins.isEmpty()) {
      throw bad(abs, "has no signature and no Placeholder node: the model has no input");
    }
    if (outs.isEmpty()) {
      throw bad(abs, "has no signature and no output: every node is read by another");
    }
    if (outs.size() > 1) {
      warnings.add("several sinks, all taken as outputs of serving_default: " + outs.keySet());
    }
    return new Signature(Signature.SERVING_DEFAULT, Signature.PREDICT_METHOD, ins, outs);
  }

  /** Specs from signature TensorInfos; null (with a warning) when one names no graph tensor. */
  private static Map<String, TensorSpec> fromJson(GraphView view, Map<String, TensorInfo> infos,
      String what, List<String> warnings) {
    Map<String, TensorSpec> out = new LinkedHashMap<>();
    for (Map.Entry<String, TensorInfo> e : infos.entrySet()) {
      TensorInfo info = e.getValue();
      String tensor = info.getName().isEmpty() ? e.getKey() : info.getName();
      TensorName t = TensorName.parse(tensor);
      if (t.isControl() || !view.contains(t.node())) {
        warnings.add("signature " + what + " '" + e.getKey() + "' names tensor '" + tensor
            + "', which is not in the graph");
        return null;
      }
      long[] shape = info.hasTensorShape() && !info.getTensorShape().getUnknownRank()
          ? dims(info.getTensorShape()) : null;
      String key = e.getKey().endsWith(":0")
          ? e.getKey().substring(0, e.getKey().length() - 2) : e.getKey();
      out.put(key, new TensorSpec(t, info.getDtype(), shape));
    }
    return out;
  }

  /**
   * Imports the split graph into TensorFlow (failing when it refuses it) and settles each
   * tensor's dtype and shape against the graph.
   */
  private static Signature finalSignature(Path abs, GraphDef graph, Signature s,
      boolean fromJson, List<String> warnings) {
    try (Graph g = new Graph()) {
      try {
        GraphImport.into(g, graph);
      } catch (RuntimeException e) {
        throw new ModelFormatException(abs + ": TensorFlow rejects the graph: " + firstLine(e),
            e);
      }
      return new Signature(s.key(), s.methodName(), settle(abs, g, s.inputs(), fromJson,
          warnings), settle(abs, g, s.outputs(), fromJson, warnings));
    }
  }

  private static Map<String, TensorSpec> settle(Path abs, Graph g, Map<String, TensorSpec> specs,
      boolean fromJson, List<String> warnings) {
    Map<String, TensorSpec> out = new LinkedHashMap<>();
    for (Map.Entry<String, TensorSpec> e : specs.entrySet()) {
      TensorSpec s = e.getValue();
      GraphOperation op = g.operation(s.tensor().node());
      if (op == null || s.tensor().index() >= op.numOutputs()) {
        throw bad(abs, "signature tensor '" + s.tensor() + "' (" + e.getKey() + ") is not in "
            + "the imported graph");
      }
      DataType graphType = TensorValues.baseType(op.output(s.tensor().index()).dataType());
      DataType dtype = s.dtype();
      if (dtype == DataType.DT_INVALID) {
        dtype = graphType;
      } else if (dtype != graphType) {
        warnings.add("signature tensor '" + e.getKey() + "' is declared " + dtype + " but the "
            + "graph computes " + graphType + "; using " + graphType);
        dtype = graphType;
      }
      long[] shape = s.shape();
      if (shape == null) {
        Shape gs = op.output(s.tensor().index()).shape();
        shape = gs.isUnknown() ? null : gs.asArray();
      }
      out.put(e.getKey(), new TensorSpec(s.tensor(), dtype, shape));
    }
    if (fromJson && out.isEmpty()) {
      throw bad(abs, "the signature lists no tensors");
    }
    return out;
  }

  private static long[] placeholderShape(NodeDef n) {
    AttrValue a = n.getAttrOrDefault("shape", null);
    if (a == null || !a.hasShape() || a.getShape().getUnknownRank()) {
      return null;
    }
    return dims(a.getShape());
  }

  private static long[] dims(TensorShapeProto s) {
    return s.getDimList().stream().mapToLong(TensorShapeProto.Dim::getSize).toArray();
  }

  private static ModelFormatException bad(Path abs, String what) {
    return new ModelFormatException(abs + (what.startsWith("is ") || what.startsWith("has ")
        || what.startsWith("uses ") ? " " : ": ") + what);
  }
}
