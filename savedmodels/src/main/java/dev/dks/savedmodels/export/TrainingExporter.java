package dev.dks.savedmodels.export;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorSpec;
import dev.dks.rewriter.safety.OpGate;
import dev.dks.rewriter.safety.UnsafeOpsException;
import dev.dks.savedmodels.TensorValues;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SaverDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Writes a {@link Model} as a SavedModel from which training resumes in a later process: the
 * whole graph, not pruned (training ops, gradients, optimizer slot variables, step counters and
 * initializers all kept), every {@code VariableV2} of any dtype {@link TensorValues} supports
 * (float32 weights, int64 step counters, ...) saved in the V2 checkpoint {@code
 * variables/variables.*} and restored by the standard TF1 saver ({@code save/restore_all}), and
 * all of the model's signatures: {@code serving_default} with method {@code
 * tensorflow/serving/predict} (a copy of the first signature when the model has none of that
 * name) plus every other one, e.g. a {@code train} signature.
 *
 * <p>The folder holds two MetaGraphDefs sharing that one checkpoint, because TensorFlow's loader
 * picks a meta graph by its exact tag set:
 *
 * <ul>
 *   <li>tags {@code {serve, train}} ({@link #TAGS}): the full training graph, loaded with {@code
 *       SavedModelBundle.load(dir, "serve", "train")} to continue training;
 *   <li>tags {@code {serve}}: the serving meta graph exactly as {@link ServingExporter} builds it
 *       (pruned to the signatures; its saver restores the subset of variables it reads), so TF
 *       Serving and {@link ServingCheck} load the same folder.
 * </ul>
 *
 * <p>Rules: only {@code VariableV2} variables; a resource variable ({@code VarHandleOp}) or an op
 * that reads or updates one ({@code ReadVariableOp}, {@code ResourceApply*}, ...), or the legacy
 * {@code Variable} op, is refused naming the node. Every variable needs a value of its declared
 * dtype and shape, and every value a variable. Only ops the TensorFlow runtime registers (no
 * {@code _}-prefixed internal ops). A saver left in the graph by an earlier export ({@code save/*},
 * see tensorflow-java.md R5) is replaced by a fresh one covering every variable. The folder is
 * written next to the target and renamed into place atomically; an existing non-empty target is
 * refused; on any error nothing is left behind.
 *
 * <p>Untrusted models (issue 17): the training meta graph keeps every node, and a later process
 * may run any of them, so a graph holding an op of {@link dev.dks.rewriter.safety.OpPolicy} (file
 * or stream I/O) anywhere (besides the stale saver replaced here) is refused before anything is
 * written ({@link UnsafeOpsException}), unless the caller allows its op type.
 */
public final class TrainingExporter {
  /** The tag of the training meta graph, together with {@code serve}. */
  public static final String TRAIN_TAG = "train";
  /** The tag set under which the full training graph is stored. */
  public static final List<String> TAGS = List.of(ServingExporter.SERVE_TAG, TRAIN_TAG);

  private static final String SAVER_SCOPE = "save/";
  private static final Set<String> RESOURCE_VARIABLE_OPS = Set.of("VarHandleOp", "_VarHandlesOp",
      "ReadVariableOp", "_ReadVariablesOp", "AssignVariableOp", "AssignAddVariableOp",
      "AssignSubVariableOp", "VarIsInitializedOp", "VariableShape", "DestroyResourceOp");

  private TrainingExporter() {}

  /**
   * Exports {@code model} into the new folder {@code dir}.
   *
   * @throws ExportException naming the node, variable, signature or folder at fault; nothing is
   *     written then
   * @throws UnsafeOpsException when the graph holds an op with effects outside the tensors
   */
  public static void export(Model model, Path dir) {
    export(model, dir, Map.of());
  }

  /**
   * Exports {@code model} into the new folder {@code dir}, with extra files (by plain file name)
   * in {@code assets.extra/} (see {@link ServingExporter#export(Model, Path, Map)}).
   *
   * @throws ExportException naming the node, variable, signature or folder at fault; nothing is
   *     written then
   * @throws UnsafeOpsException when the graph holds an op with effects outside the tensors
   */
  public static void export(Model model, Path dir, Map<String, byte[]> assetsExtra) {
    export(model, dir, assetsExtra, Set.of());
  }

  /**
   * As {@link #export(Model, Path, Map)}, accepting the policy ops in {@code allowedOps} (op
   * types, for a model the caller trusts).
   *
   * @throws ExportException naming the node, variable, signature or folder at fault
   * @throws UnsafeOpsException when the graph holds another op with effects outside the tensors;
   *     nothing is written then
   */
  public static void export(Model model, Path dir, Map<String, byte[]> assetsExtra,
      Set<String> allowedOps) {
    ExportSupport.checkAssetsExtra(assetsExtra);
    Path target = dir.toAbsolutePath().normalize();
    ExportSupport.refuseNonEmpty(target);
    Map<String, Signature> signatures = trainingSignatures(model);
    GraphView g = GraphView.of(model.graph());
    dropStaleSaver(g);
    OpGate.requireGraphSafe(g.toGraphDef(), allowedOps, "the model exported to " + target);
    OpGate.requireServingSafe(model, allowedOps, "the model exported to " + target);
    checkOps(g);
    checkSignatures(g, signatures);
    List<String> vars = new ArrayList<>();
    List<DataType> dtypes = new ArrayList<>();
    Map<String, TensorProto> values = new LinkedHashMap<>();
    for (NodeDef n : g.nodes()) {
      if (n.getOp().equals("VariableV2")) {
        DataType dtype = n.getAttrOrThrow("dtype").getType();
        values.put(n.getName(), checkedValue(model, n, dtype));
        vars.add(n.getName());
        dtypes.add(dtype);
      }
    }
    for (String name : model.variables().keySet()) {
      if (!values.containsKey(name)) {
        throw new ExportException("the model has a value for variable '" + name + "' but its "
            + "graph has no VariableV2 node of that name");
      }
    }
    SaverDef saver = vars.isEmpty() ? null : SaverGraph.add(g, vars, dtypes);
    MetaGraphDef.Builder training = ExportSupport.metaGraph(TAGS, g, saver);
    signatures.forEach((k, s) -> training.putSignatureDef(k, ExportSupport.signatureDef(s)));
    ExportSupport.MetaGraphAndValues serving =
        ExportSupport.servingMetaGraph(model, List.of(ServingExporter.SERVE_TAG));
    SavedModel sm = SavedModel.newBuilder().setSavedModelSchemaVersion(1)
        .addMetaGraphs(training).addMetaGraphs(serving.meta()).build();
    ExportSupport.writeAtomically(target, sm, values, assetsExtra);
  }

  /** All signatures: serving_default (predict) first, then every other one unchanged. */
  private static Map<String, Signature> trainingSignatures(Model model) {
    if (model.signatures().isEmpty()) {
      throw new ExportException("the model has no signature: a training SavedModel needs at "
          + "least a serving_default signature naming its inputs and outputs");
    }
    Signature first = model.signatures().stream()
        .filter(s -> s.key().equals(Signature.SERVING_DEFAULT)).findFirst()
        .orElse(model.signatures().get(0));
    Map<String, Signature> out = new LinkedHashMap<>();
    out.put(Signature.SERVING_DEFAULT, new Signature(Signature.SERVING_DEFAULT,
        Signature.PREDICT_METHOD, first.inputs(), first.outputs()));
    for (Signature s : model.signatures()) {
      if (!s.key().equals(Signature.SERVING_DEFAULT)) {
        out.put(s.key(), s);
      }
    }
    return out;
  }

  /**
   * Removes an old saver ({@code save/*} nodes, e.g. from a graph that was loaded from a
   * SavedModel): it would clash with the new one and not cover new variables (R5). Refused when
   * other nodes read it.
   */
  private static void dropStaleSaver(GraphView g) {
    List<String> saver = g.nodes().stream().map(NodeDef::getName)
        .filter(n -> n.startsWith(SAVER_SCOPE)).toList();
    if (saver.isEmpty()) {
      return;
    }
    Set<String> scope = Set.copyOf(saver);
    for (String s : saver) {
      for (String c : g.consumers(s)) {
        if (!scope.contains(c)) {
          throw new ExportException("node '" + c + "' reads '" + s + "' of the graph's old saver"
              + " (scope save/), which the export replaces: rename the node or its scope");
        }
      }
    }
    saver.forEach(g::remove);
  }

  private static void checkOps(GraphView g) {
    List<NodeDef> nodes = g.nodes();
    // Name the variable itself first, then any op using a resource variable.
    for (NodeDef n : nodes) {
      if (n.getOp().equals("VarHandleOp") || n.getOp().equals("_VarHandlesOp")) {
        throw new ExportException("node '" + n.getName() + "' is a resource variable ("
            + n.getOp() + "): a training SavedModel holds only VariableV2 variables; run the "
            + "resource-to-ref-vars pass first");
      }
    }
    for (NodeDef n : nodes) {
      String op = n.getOp();
      if (RESOURCE_VARIABLE_OPS.contains(op) || op.startsWith("Resource")) {
        throw new ExportException("node '" + n.getName() + "' uses a resource variable (" + op
            + "): a training SavedModel holds only VariableV2 variables and their ref-variable "
            + "ops (e.g. ApplyGradientDescent instead of ResourceApplyGradientDescent)");
      }
      if (op.equals("Variable")) {
        throw new ExportException("node '" + n.getName() + "' is a legacy Variable op: only "
            + "VariableV2 variables are exported");
      }
      ExportSupport.checkStandardOp(n);
    }
  }

  private static void checkSignatures(GraphView g, Map<String, Signature> signatures) {
    for (Signature s : signatures.values()) {
      List<Map.Entry<String, TensorSpec>> all = new ArrayList<>(s.inputs().entrySet());
      all.addAll(s.outputs().entrySet());
      for (Map.Entry<String, TensorSpec> e : all) {
        TensorName t = e.getValue().tensor();
        if (!g.contains(t.node())) {
          throw new ExportException("signature '" + s.key() + "': '" + e.getKey() + "' names "
              + "tensor '" + t + "', whose node is not in the graph");
        }
      }
    }
  }

  /** The model's value for variable {@code n}, checked against its dtype and shape attrs. */
  private static TensorProto checkedValue(Model model, NodeDef n, DataType dtype) {
    TensorProto v = model.variables().get(n.getName());
    if (v == null) {
      throw new ExportException("variable '" + n.getName() + "' has no value in the model: a "
          + "training SavedModel saves every variable (run the graph's initializers and read "
          + "the values back before exporting)");
    }
    if (!TensorValues.supported(dtype)) {
      throw new ExportException("variable '" + n.getName() + "' has dtype " + dtype + ", which "
          + "TF Java 1.1.0 cannot hold as a tensor, so it cannot be written to the checkpoint");
    }
    if (TensorValues.baseType(v.getDtype()) != dtype) {
      throw new ExportException("variable '" + n.getName() + "' is " + dtype + " but its value "
          + "is " + v.getDtype());
    }
    AttrValue shapeAttr = n.getAttrMap().get("shape");
    if (shapeAttr != null && !shapeAttr.getShape().getUnknownRank()) {
      long[] declared = shapeAttr.getShape().getDimList().stream()
          .mapToLong(TensorShapeProto.Dim::getSize).toArray();
      long[] actual = v.getTensorShape().getDimList().stream()
          .mapToLong(TensorShapeProto.Dim::getSize).toArray();
      boolean fits = declared.length == actual.length;
      for (int i = 0; fits && i < declared.length; i++) {
        fits = declared[i] < 0 || declared[i] == actual[i];
      }
      if (!fits) {
        throw new ExportException("variable '" + n.getName() + "' has shape "
            + Arrays.toString(declared) + " but its value has shape "
            + Arrays.toString(actual));
      }
    }
    return v;
  }
}
