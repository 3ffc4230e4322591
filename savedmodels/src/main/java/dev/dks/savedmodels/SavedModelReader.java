package dev.dks.savedmodels;

import static dev.dks.savedmodels.ReaderMessages.firstLine;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.TextFormat;
import dev.dks.rewriter.graph.GraphImport;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.model.TensorSpec;
import dev.dks.rewriter.passes.inline.InlineFunctionsPass;
import dev.dks.rewriter.passes.inline.ResourceVariablesPass;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.pipeline.StructuralVerifier;
import dev.dks.rewriter.pipeline.TensorFlowVerifier;
import dev.dks.rewriter.safety.UnsafeOpsException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Logger;
import java.util.stream.Stream;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Reads a SavedModel folder (TF1 or TF2/Keras, binary {@code saved_model.pb} or text {@code
 * saved_model.pbtxt}) into a TF1-style {@link Model}.
 *
 * <ol>
 *   <li>The meta graph is loaded with {@link SavedModelBundle} (the bundle is closed before this
 *       returns). Without tags, the tag set is taken from the file: the meta graph tagged {@code
 *       serve}, else the only one.
 *   <li>Every SignatureDef except {@code __saved_model_init_op} becomes a {@link Signature}
 *       (serving_default first, then by key). A signature whose tensors are not in the graph, are
 *       sparse/composite, or whose dtypes disagree with the graph is left out with a warning
 *       naming it. When TF Java itself refuses to load the model because of such a signature
 *       (e.g. {@code tfserving_half_plus_three}), the bad signatures are dropped from a copy of
 *       {@code saved_model.pb} in a temporary folder (variables and assets linked) and that copy
 *       is loaded instead. A signature whose shapes contradict the graph (which TF Java also
 *       refuses) is kept with the graph's shapes, with a warning.
 *   <li>Nodes that are not ancestors of a signature's inputs or outputs are removed, which drops
 *       the saver ({@code save/*}, the TF2 save/restore calls) and the init ops; colocation
 *       attributes naming removed nodes are dropped (TensorFlow refuses to import them).
 *   <li>Variable values come from the TF runtime, never from parsing files: a {@code VariableV2}
 *       is fetched by name in the loaded session; a resource variable ({@code VarHandleOp}) is
 *       read from {@code variables/variables} with a small {@code RestoreV2} graph ({@link
 *       CheckpointReader}), its checkpoint key taken from the model's own restore graph (see
 *       {@code SaverKeys}: the {@code Assign(Variable)Op} that the saver runs for it); a resource
 *       variable without a key is read through a {@code ReadVariableOp} added to the loaded
 *       session's graph. A variable on a signature's path without a value fails the read
 *       with {@link ModelFormatException} (no partial model).
 *   <li>The {@link #pipeline()} (inline-functions, resource-to-ref-vars, verified by {@link
 *       StructuralVerifier} and {@link TensorFlowVerifier}) turns the graph TF1-style: no
 *       function calls and only {@code VariableV2} variables on the serving path (anything left
 *       is reported as a warning).
 * </ol>
 *
 * <p>Warnings go to {@code java.util.logging} (logger {@code dev.dks.savedmodels
 * .SavedModelReader}) and into {@link Result#warnings()}. Unreadable folders fail with {@link
 * ModelFormatException}.
 */
public final class SavedModelReader {
  /** The signature key TF2 uses for its init op; it is not an entry point. */
  public static final String INIT_OP_SIGNATURE = "__saved_model_init_op";

  private static final Logger LOG = Logger.getLogger(SavedModelReader.class.getName());
  private static final Set<String> RESOURCE_LEFTOVERS = Set.of("PartitionedCall",
      "StatefulPartitionedCall", "VarHandleOp", "ReadVariableOp");

  private SavedModelReader() {}

  /**
   * What a read produced.
   *
   * @param model the TF1-style model (functions inlined, resource variables turned VariableV2)
   * @param raw the pruned model as loaded, before the pipeline (functions and resource variables
   *     still there, values keyed by variable node name)
   * @param warnings everything left out or not understood, one line each
   * @param passes what each pipeline pass did
   * @param tags the tag set that was loaded
   */
  public record Result(Model model, Model raw, List<String> warnings, List<PassOutcome> passes,
      List<String> tags) {
    /** Copies the lists. */
    public Result {
      warnings = List.copyOf(warnings);
      passes = List.copyOf(passes);
      tags = List.copyOf(tags);
    }
  }

  /**
   * Reads the SavedModel in {@code dir} (tags as in {@link #readDetailed}); logs warnings.
   *
   * @throws UnsafeOpsException when the init or restore op, or an input of a variable node, holds
   *     an op with effects outside the tensors
   */
  public static Model read(Path dir, String... tags) {
    return readDetailed(dir, tags).model();
  }

  /**
   * Reads the SavedModel in {@code dir}.
   *
   * @param tags the meta graph's tag set; none: the one tagged {@code serve}, else the only one
   * @throws ModelFormatException when the folder is not a loadable SavedModel or has no usable
   *     signature
   * @throws UnsafeOpsException when the init or restore op, which TensorFlow's loader runs, or an
   *     input of a variable node, which the reader fetches, holds an op with effects outside the
   *     tensors (nothing is loaded then)
   */
  public static Result readDetailed(Path dir, String... tags) {
    return readDetailed(dir, Set.of(), tags);
  }

  /**
   * As {@link #readDetailed(Path, String...)}, letting the loader run the policy ops in {@code
   * allowedOps} (op types, for a model the caller trusts). The rest of the serving path is not
   * run by the reader, so it is not checked here: the entry points that run or write the model
   * check it ({@link UntrustedOps#requireReadableSavedModel}).
   *
   * @throws UnsafeOpsException when the init or restore op, or an input of a variable node, holds
   *     another op with effects outside the tensors (nothing is loaded then)
   */
  public static Result readDetailed(Path dir, Set<String> allowedOps, String... tags) {
    Path abs = dir.toAbsolutePath().normalize();
    if (!Files.isRegularFile(abs.resolve("saved_model.pb"))
        && !Files.isRegularFile(abs.resolve("saved_model.pbtxt"))) {
      throw new ModelFormatException(abs + " is not a SavedModel folder: it has no saved_model.pb"
          + " or saved_model.pbtxt");
    }
    requireWithinLimits(abs);
    requireFilesInside(abs);
    UntrustedOps.requireReadableSavedModel(abs, allowedOps);
    List<String> warnings = new ArrayList<>();
    String[] useTags = tags.length > 0 ? tags.clone() : discoverTags(abs);
    Model raw;
    try (SavedModelBundle bundle = load(abs, useTags, warnings)) {
      raw = rawModel(abs, bundle, warnings);
    }
    Pipeline.Result pr = pipeline().run(raw);
    for (PassOutcome o : pr.outcomes()) {
      for (String note : o.notes()) {
        if (note.startsWith("left ")) {
          warnings.add(o.pass() + ": " + note);
        }
      }
    }
    checkResult(pr.model(), warnings);
    for (String w : warnings) {
      LOG.warning(abs + ": " + w);
    }
    return new Result(pr.model(), raw, warnings, pr.outcomes(), List.of(useTags));
  }

  /** The passes that make a loaded graph TF1-style, with the structural and TF verifiers. */
  public static Pipeline pipeline() {
    return Pipeline.builder().add(new InlineFunctionsPass()).add(new ResourceVariablesPass())
        .verifier(new StructuralVerifier()).verifier(new TensorFlowVerifier(false)).build();
  }

  // ---------------------------------------------------------------- loading

  /**
   * The reader only restores and fetches variables: Grappler's graph optimizations cost about
   * half of TF's load here (measured: 195 -> 95 ms for MobileNetV2) and buy nothing.
   */
  private static final org.tensorflow.proto.ConfigProto READ_ONLY_SESSION =
      org.tensorflow.proto.ConfigProto.newBuilder().setGraphOptions(
          org.tensorflow.proto.GraphOptions.newBuilder().setRewriteOptions(
              org.tensorflow.proto.RewriterConfig.newBuilder().setDisableMetaOptimizer(true)))
          .build();

  private static SavedModelBundle load(Path dir, String[] tags, List<String> warnings) {
    try {
      return SavedModelBundle.loader(dir.toString()).withTags(tags)
          .withConfigProto(READ_ONLY_SESSION).load();
    } catch (IllegalArgumentException e) {
      // TensorFlow loaded the model, but TF Java refused one of its signatures
      return loadWithoutBadSignatures(dir, tags, warnings, e);
    } catch (TensorFlowException e) {
      throw new ModelFormatException(dir + ": TensorFlow cannot load the SavedModel with tags "
          + Arrays.toString(tags) + ": " + e.getMessage(), e);
    }
  }

  private static SavedModelBundle loadWithoutBadSignatures(Path dir, String[] tags,
      List<String> warnings, IllegalArgumentException cause) {
    SavedModel sm = parseSavedModel(dir);
    MetaGraphDef meta = metaGraph(sm, tags, dir);
    MetaGraphDef.Builder fixed = meta.toBuilder();
    int dropped = 0;
    try (Graph g = new Graph()) {
      GraphImport.into(g, meta.getGraphDef());
      for (Map.Entry<String, SignatureDef> e : meta.getSignatureDefMap().entrySet()) {
        if (e.getKey().equals(INIT_OP_SIGNATURE)) {
          continue;
        }
        String why = problem(e.getValue(), g);
        if (why != null) {
          fixed.removeSignatureDef(e.getKey());
          warnings.add("signature '" + e.getKey() + "' is left out: " + why);
          dropped++;
          continue;
        }
        SignatureDef shapesFixed = withGraphShapes(e.getKey(), e.getValue(), g, warnings);
        if (!shapesFixed.equals(e.getValue())) {
          fixed.putSignatureDef(e.getKey(), shapesFixed);
          dropped++;
        }
      }
    } catch (IllegalArgumentException | TensorFlowException e) {
      throw new ModelFormatException(dir + ": TensorFlow rejects the graph: " + e.getMessage(), e);
    }
    if (dropped == 0) {
      throw new ModelFormatException(dir + ": TF Java cannot load the SavedModel: "
          + cause.getMessage(), cause);
    }
    Path tmp = null;
    try {
      tmp = Files.createTempDirectory("dks-savedmodel-");
      SavedModel copy = SavedModel.newBuilder()
          .setSavedModelSchemaVersion(sm.getSavedModelSchemaVersion())
          .addMetaGraphs(fixed.build()).build();
      Files.write(tmp.resolve("saved_model.pb"), copy.toByteArray());
      for (String sub : List.of("variables", "assets", "assets.extra")) {
        if (Files.exists(dir.resolve(sub))) {
          Files.createSymbolicLink(tmp.resolve(sub), dir.resolve(sub));
        }
      }
      return SavedModelBundle.loader(tmp.toString()).withTags(tags)
          .withConfigProto(READ_ONLY_SESSION).load();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write a cleaned copy of " + dir, e);
    } catch (IllegalArgumentException | TensorFlowException e) {
      throw new ModelFormatException(dir + ": the SavedModel does not load even without its"
          + " inconsistent signatures: " + e.getMessage(), e);
    } finally {
      deleteQuietly(tmp);
    }
  }

  private static String[] discoverTags(Path dir) {
    SavedModel sm;
    try {
      sm = parseSavedModel(dir);
    } catch (ModelFormatException e) {
      return new String[] {SavedModelBundle.DEFAULT_TAG};
    }
    for (MetaGraphDef m : sm.getMetaGraphsList()) {
      if (m.getMetaInfoDef().getTagsList().contains(SavedModelBundle.DEFAULT_TAG)) {
        return m.getMetaInfoDef().getTagsList().toArray(String[]::new);
      }
    }
    if (sm.getMetaGraphsCount() == 1) {
      return sm.getMetaGraphs(0).getMetaInfoDef().getTagsList().toArray(String[]::new);
    }
    throw new ModelFormatException(dir + " has " + sm.getMetaGraphsCount() + " meta graphs and"
        + " none is tagged 'serve'; pass the tags: " + sm.getMetaGraphsList().stream()
        .map(m -> m.getMetaInfoDef().getTagsList()).toList());
  }

  /**
   * The asset and variable files of {@code dir} must lie inside it and its tensors be within
   * bounds ({@link UntrustedOps#requireSafeContents}); a saved_model.pb that does not parse is
   * left to the loader's own error.
   */
  private static void requireFilesInside(Path dir) {
    requireWithinLimits(dir);
    SavedModel sm;
    try {
      sm = parseSavedModel(dir);
    } catch (ModelFormatException e) {
      return;
    }
    UntrustedOps.requireSafeContents(dir, sm);
  }

  /**
   * Fails when the folder's saved_model.pb(txt) is larger than {@link BoundedFiles#budget()}, or
   * its text nests deeper than {@link TextProtoDepth#LIMIT}: the readers' pre-scans treat an
   * unparsable file as TensorFlow's to report, but such a file must not reach TensorFlow's loader
   * either (its C++ text parser has no recursion limit: a deeply nested saved_model.pbtxt
   * overflows the native stack and kills the JVM).
   */
  static void requireWithinLimits(Path dir) {
    Path pb = dir.resolve("saved_model.pb");
    Path file = Files.isRegularFile(pb) ? pb : dir.resolve("saved_model.pbtxt");
    try {
      if (Files.isRegularFile(file)) {
        BoundedFiles.requireWithinBudget(file);
        if (file.getFileName().toString().endsWith(".pbtxt")) {
          TextProtoDepth.requireWithinLimit(Files.readString(file), file.toString());
        }
      }
    } catch (IOException e) {
      throw new ModelFormatException(dir + ": cannot read " + file.getFileName() + ": " + e, e);
    }
  }

  static SavedModel parseSavedModel(Path dir) {
    try {
      Path pb = dir.resolve("saved_model.pb");
      if (Files.isRegularFile(pb)) {
        return SavedModel.parseFrom(BoundedFiles.readAllBytes(pb));
      }
      SavedModel.Builder b = SavedModel.newBuilder();
      String text = BoundedFiles.readString(dir.resolve("saved_model.pbtxt"));
      TextProtoDepth.requireWithinLimit(text, dir.resolve("saved_model.pbtxt").toString());
      TextFormat.merge(text, b);
      return b.build();
    } catch (InvalidProtocolBufferException | TextFormat.ParseException e) {
      throw new ModelFormatException(dir + ": saved_model.pb(txt) is not a SavedModel: "
          + e.getMessage(), e);
    } catch (IOException e) {
      throw new ModelFormatException(dir + ": cannot read saved_model.pb(txt): " + e, e);
    }
  }

  private static MetaGraphDef metaGraph(SavedModel sm, String[] tags, Path dir) {
    Set<String> want = Set.of(tags);
    for (MetaGraphDef m : sm.getMetaGraphsList()) {
      if (new HashSet<>(m.getMetaInfoDef().getTagsList()).equals(want)) {
        return m;
      }
    }
    throw new ModelFormatException(dir + " has no meta graph tagged " + want);
  }

  // ---------------------------------------------------------------- the raw model

  private static Model rawModel(Path dir, SavedModelBundle bundle, List<String> warnings) {
    MetaGraphDef meta = bundle.metaGraphDef();
    List<Signature> sigs = signatures(meta, bundle.graph(), warnings);
    if (sigs.isEmpty()) {
      throw new ModelFormatException(dir + " has no usable signature"
          + (warnings.isEmpty() ? "" : ": " + warnings));
    }
    Set<String> roots = new LinkedHashSet<>();
    for (Signature s : sigs) {
      s.inputs().values().forEach(t -> roots.add(t.tensor().node()));
      s.outputs().values().forEach(t -> roots.add(t.tensor().node()));
    }
    GraphView view = GraphView.of(meta.getGraphDef());
    view.prune(roots);
    dropDanglingColocations(view);
    List<String> missing = new ArrayList<>();
    Map<String, TensorProto> values = readVariables(dir, meta, bundle, view, warnings, missing);
    if (!missing.isEmpty()) {
      throw new ModelFormatException(dir + ": variables on the signatures' paths have no value"
          + " (is the variables/ folder missing or incomplete?): " + String.join("; ", missing));
    }
    return new Model(view.toGraphDef(), values, sigs);
  }

  private static List<Signature> signatures(MetaGraphDef meta, Graph graph,
      List<String> warnings) {
    List<String> keys = new ArrayList<>(meta.getSignatureDefMap().keySet());
    keys.sort(Comparator.comparing((String k) -> !k.equals(Signature.SERVING_DEFAULT))
        .thenComparing(k -> k));
    List<Signature> out = new ArrayList<>();
    for (String key : keys) {
      if (key.equals(INIT_OP_SIGNATURE)) {
        continue;
      }
      SignatureDef def = meta.getSignatureDefOrThrow(key);
      String why = problem(def, graph);
      if (why != null) {
        warnings.add("signature '" + key + "' is left out: " + why);
        continue;
      }
      def = withGraphShapes(key, def, graph, warnings);
      out.add(new Signature(key, def.getMethodName(), specs(def.getInputsMap()),
          specs(def.getOutputsMap())));
    }
    return out;
  }

  /** Why the signature does not fit the graph, or null when it does. */
  static String problem(SignatureDef def, Graph graph) {
    if (def.getOutputsCount() == 0) {
      return "it has no outputs";
    }
    for (boolean input : new boolean[] {true, false}) {
      Map<String, TensorInfo> infos = input ? def.getInputsMap() : def.getOutputsMap();
      for (Map.Entry<String, TensorInfo> e : new java.util.TreeMap<>(infos).entrySet()) {
        String what = (input ? "input '" : "output '") + e.getKey() + "'";
        TensorInfo info = e.getValue();
        if (info.getEncodingCase() != TensorInfo.EncodingCase.NAME) {
          return what + " is a sparse or composite tensor, which is not supported";
        }
        TensorName t = TensorName.parse(info.getName());
        GraphOperation op = t.isControl() ? null : graph.operation(t.node());
        if (op == null) {
          return what + " names '" + info.getName() + "', which is not in the graph";
        }
        if (t.index() >= op.numOutputs()) {
          return what + " names '" + info.getName() + "', but " + op.type() + " '" + t.node()
              + "' has " + op.numOutputs() + " outputs";
        }
        DataType actual = TensorValues.baseType(op.output(t.index()).dataType());
        if (actual != TensorValues.baseType(info.getDtype())) {
          return what + " is '" + info.getName() + "' of type " + actual
              + " in the graph, but the signature says " + info.getDtype();
        }
      }
    }
    return null;
  }

  /**
   * The signature with every tensor shape that contradicts the graph replaced by the graph's
   * shape (TF Java refuses such signatures; the graph is what runs), each change warned about.
   */
  static SignatureDef withGraphShapes(String key, SignatureDef def, Graph graph,
      List<String> warnings) {
    SignatureDef.Builder b = def.toBuilder();
    for (boolean input : new boolean[] {true, false}) {
      Map<String, TensorInfo> infos = input ? def.getInputsMap() : def.getOutputsMap();
      for (Map.Entry<String, TensorInfo> e : new java.util.TreeMap<>(infos).entrySet()) {
        TensorInfo info = e.getValue();
        TensorName t = TensorName.parse(info.getName());
        Shape actual = graph.operation(t.node()).output(t.index()).shape();
        Shape declared = shape(info.getTensorShape());
        if (actual.isCompatibleWith(declared)) {
          continue;
        }
        warnings.add("signature '" + key + "': " + (input ? "input '" : "output '") + e.getKey()
            + "' is declared " + declared + " but '" + info.getName() + "' is " + actual
            + " in the graph; the graph's shape is used");
        TensorInfo fixedInfo = info.toBuilder().setTensorShape(shapeProto(actual)).build();
        if (input) {
          b.putInputs(e.getKey(), fixedInfo);
        } else {
          b.putOutputs(e.getKey(), fixedInfo);
        }
      }
    }
    return b.build();
  }

  private static Shape shape(TensorShapeProto p) {
    if (p.getUnknownRank()) {
      return Shape.unknown();
    }
    return Shape.of(p.getDimList().stream().mapToLong(TensorShapeProto.Dim::getSize).toArray());
  }

  private static TensorShapeProto shapeProto(Shape s) {
    if (s.isUnknown()) {
      return TensorShapeProto.newBuilder().setUnknownRank(true).build();
    }
    return TensorProtos.shapeProto(s.asArray());
  }

  private static Map<String, TensorSpec> specs(Map<String, TensorInfo> infos) {
    Map<String, TensorSpec> out = new LinkedHashMap<>();
    for (Map.Entry<String, TensorInfo> e : new java.util.TreeMap<>(infos).entrySet()) {
      TensorInfo i = e.getValue();
      TensorShapeProto s = i.getTensorShape();
      long[] shape = s.getUnknownRank() ? null
          : s.getDimList().stream().mapToLong(TensorShapeProto.Dim::getSize).toArray();
      out.put(e.getKey(), new TensorSpec(TensorName.parse(i.getName()),
          TensorValues.baseType(i.getDtype()), shape));
    }
    return out;
  }

  /**
   * Removes colocation constraints ({@code _class: loc:@node}) that name pruned nodes: TensorFlow
   * refuses to import a node colocated with an unknown node.
   */
  static void dropDanglingColocations(GraphView view) {
    for (NodeDef n : view.nodes()) {
      if (!n.containsAttr("_class")) {
        continue;
      }
      List<com.google.protobuf.ByteString> kept = new ArrayList<>();
      for (com.google.protobuf.ByteString c : n.getAttrOrThrow("_class").getList().getSList()) {
        String loc = c.toStringUtf8();
        if (!loc.startsWith("loc:@") || view.contains(loc.substring(5))) {
          kept.add(c);
        }
      }
      if (kept.size() == n.getAttrOrThrow("_class").getList().getSCount()) {
        continue;
      }
      NodeDef.Builder b = n.toBuilder().removeAttr("_class");
      if (!kept.isEmpty()) {
        b.putAttr("_class", org.tensorflow.proto.AttrValue.newBuilder().setList(
            org.tensorflow.proto.AttrValue.ListValue.newBuilder().addAllS(kept)).build());
      }
      view.put(b.build());
    }
  }

  // ---------------------------------------------------------------- variable values

  private static Map<String, TensorProto> readVariables(Path dir, MetaGraphDef meta,
      SavedModelBundle bundle, GraphView view, List<String> warnings, List<String> missing) {
    Map<String, TensorProto> values = new LinkedHashMap<>();
    List<NodeDef> resources = new ArrayList<>();
    List<String> refVariables = new ArrayList<>();
    for (NodeDef n : view.nodes()) {
      if (n.getOp().equals("VariableV2") || n.getOp().equals("Variable")) {
        refVariables.add(n.getName());
      } else if (n.getOp().equals("VarHandleOp")) {
        resources.add(n);
      }
    }
    readRefVariables(bundle, refVariables, values, missing);
    if (resources.isEmpty()) {
      return values;
    }
    Path prefix = dir.resolve("variables").resolve("variables");
    Map<String, CheckpointReader.Entry> keys = CheckpointReader.exists(prefix)
        ? SaverKeys.of(meta) : Map.of();
    List<CheckpointReader.Entry> wanted = new ArrayList<>();
    for (NodeDef n : resources) {
      CheckpointReader.Entry e = keys.get(n.getName());
      if (e != null && !wanted.contains(e)) {
        wanted.add(e);
      }
    }
    if (!wanted.isEmpty()) {
      try {
        Map<String, TensorProto> read = CheckpointReader.read(prefix, wanted);
        for (NodeDef n : resources) {
          CheckpointReader.Entry e = keys.get(n.getName());
          if (e != null && read.containsKey(e.key())) {
            values.put(n.getName(), read.get(e.key()));
          }
        }
      } catch (RuntimeException e) {
        warnings.add("cannot read the checkpoint " + prefix + ": " + firstLine(e));
      }
    }
    for (NodeDef n : resources) {
      if (!values.containsKey(n.getName())) {
        try {
          values.put(n.getName(), readFromSession(bundle, n));
        } catch (RuntimeException e) {
          missing.add("variable '" + n.getName() + "' has no value (no checkpoint key and the"
              + " loaded session cannot read it): " + firstLine(e));
        }
      }
    }
    return values;
  }

  /**
   * Fetches the ref variables {@code names} in one session run; when that fails (some variable
   * has no value), one run per variable so each failure is reported on its own.
   */
  private static void readRefVariables(SavedModelBundle bundle, List<String> names,
      Map<String, TensorProto> values, List<String> missing) {
    if (names.isEmpty()) {
      return;
    }
    org.tensorflow.Session.Runner all = bundle.session().runner();
    names.forEach(all::fetch);
    try (org.tensorflow.Result r = all.run()) {
      for (int i = 0; i < names.size(); i++) {
        values.put(names.get(i), TensorValues.toProto(r.get(i)));
      }
      return;
    } catch (RuntimeException e) {
      names.forEach(values::remove);
    }
    for (String name : names) {
      try (org.tensorflow.Result r = bundle.session().runner().fetch(name).run()) {
        values.put(name, TensorValues.toProto(r.get(0)));
      } catch (RuntimeException e) {
        missing.add("variable '" + name + "' has no value: " + firstLine(e));
      }
    }
  }

  /** Reads a resource variable through a ReadVariableOp added to the bundle's graph. */
  private static TensorProto readFromSession(SavedModelBundle bundle, NodeDef handle) {
    Graph g = bundle.graph();
    GraphOperation h = g.operationOrThrow(handle.getName());
    String name = "dks_read_variable";
    for (int i = 1; g.operation(name) != null; i++) {
      name = "dks_read_variable_" + i;
    }
    GraphOperation read = g.opBuilder("ReadVariableOp", name, Ops.create(g).scope())
        .addInput(h.output(0)).setAttr("dtype", handle.getAttrOrThrow("dtype").getType())
        .build();
    try (org.tensorflow.Result r = bundle.session().runner().fetch(read.output(0)).run()) {
      return TensorValues.toProto(r.get(0));
    }
  }

  private static void checkResult(Model model, List<String> warnings) {
    GraphView v = GraphView.of(model.graph());
    Set<String> live = v.ancestors(model.outputNodes());
    for (NodeDef n : v.nodes()) {
      if (!live.contains(n.getName())) {
        continue;
      }
      if (RESOURCE_LEFTOVERS.contains(n.getOp())) {
        warnings.add("node '" + n.getName() + "' (" + n.getOp() + ") is still on the path of"
            + " a signature output");
      }
      String prefix = "variable '" + n.getName() + "'";
      if (n.getOp().equals("VariableV2") && !model.variables().containsKey(n.getName())
          && warnings.stream().noneMatch(w -> w.startsWith(prefix))) {
        warnings.add("variable '" + n.getName() + "' has no value");
      }
    }
  }

  private static void deleteQuietly(Path dir) {
    if (dir == null) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      LOG.fine("cannot delete " + dir + ": " + e);
    }
  }
}
