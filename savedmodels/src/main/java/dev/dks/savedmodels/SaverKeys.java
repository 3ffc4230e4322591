package dev.dks.savedmodels;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.passes.inline.InlineFunctionsPass;
import dev.dks.rewriter.pipeline.RewriteContext;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * Which checkpoint key holds which variable, told by the SavedModel's own restore graph: the
 * saver's {@code restore_op_name} node and its ancestors, with the restore function inlined for
 * TF2 models ({@code StatefulPartitionedCall} of {@code __inference__traced_restore_N}). Every
 * {@code Assign} / {@code AssignVariableOp} there writes {@code RestoreV2:k} (through Identity
 * nodes) into a variable (through resource Identity nodes / call arguments): the key is entry k
 * of the RestoreV2's {@code tensor_names} Const, the dtype entry k of its {@code dtypes}.
 *
 * <p>This is exactly the mapping TensorFlow's loader uses, so it holds for TF1 name-based
 * checkpoints (keys like {@code conv/kernel}) and TF2 object-based ones (keys like {@code
 * layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE}) alike, with no guessing from object
 * paths.
 */
final class SaverKeys {
  private SaverKeys() {}

  private static final Set<String> ASSIGN_OPS = Set.of("Assign", "AssignVariableOp");
  private static final Set<String> VARIABLE_OPS = Set.of("VariableV2", "Variable", "VarHandleOp");

  /** Checkpoint entry by variable node name (empty when the model has no restore op). */
  static Map<String, CheckpointReader.Entry> of(MetaGraphDef meta) {
    Map<String, CheckpointReader.Entry> out = new LinkedHashMap<>();
    String restoreOp = meta.getSaverDef().getRestoreOpName();
    if (restoreOp.isEmpty()) {
      return out;
    }
    String root = TensorName.parse(restoreOp).node();
    GraphView g = GraphView.of(meta.getGraphDef());
    if (!g.contains(root)) {
      return out;
    }
    g.prune(List.of(root));
    new InlineFunctionsPass().run(new RewriteContext(g, Map.of(), List.of(root)));
    for (NodeDef n : g.nodes()) {
      if (!ASSIGN_OPS.contains(n.getOp()) || n.getInputCount() < 2) {
        continue;
      }
      Optional<NodeDef> var = throughIdentity(g, n.getInput(0))
          .filter(v -> VARIABLE_OPS.contains(v.getOp()));
      TensorName value = tensorThroughIdentity(g, n.getInput(1));
      if (var.isEmpty() || value == null || !g.contains(value.node())) {
        continue;
      }
      NodeDef restore = g.get(value.node());
      if (!restore.getOp().equals("RestoreV2") || restore.getInputCount() < 3) {
        continue;
      }
      int k = value.index();
      String key = stringAt(g, restore.getInput(1), k);
      String slice = stringAt(g, restore.getInput(2), k);
      List<DataType> types = restore.getAttrOrThrow("dtypes").getList().getTypeList();
      if (key == null || k >= types.size()) {
        continue;
      }
      out.putIfAbsent(var.get().getName(),
          new CheckpointReader.Entry(key, slice == null ? "" : slice, types.get(k)));
    }
    return out;
  }

  private static Optional<NodeDef> throughIdentity(GraphView g, String input) {
    TensorName t = tensorThroughIdentity(g, input);
    return t == null ? Optional.empty() : g.find(t.node());
  }

  /** Follows {@code Identity} nodes up from a data input; null when a node is missing. */
  private static TensorName tensorThroughIdentity(GraphView g, String input) {
    TensorName t = TensorName.parse(input);
    for (int guard = 0; guard < 1000; guard++) {
      Optional<NodeDef> n = g.find(t.node());
      if (n.isEmpty()) {
        return null;
      }
      if (!n.get().getOp().equals("Identity") || n.get().getInputCount() == 0) {
        return t;
      }
      t = TensorName.parse(n.get().getInput(0));
    }
    return null;
  }

  private static String stringAt(GraphView g, String input, int k) {
    Optional<NodeDef> c = throughIdentity(g, input);
    if (c.isEmpty() || !c.get().getOp().equals("Const")) {
      return null;
    }
    TensorProto t = c.get().getAttrOrThrow("value").getTensor();
    if (t.getStringValCount() == 0) {
      return null;
    }
    return t.getStringVal(Math.min(k, t.getStringValCount() - 1)).toStringUtf8();
  }
}
