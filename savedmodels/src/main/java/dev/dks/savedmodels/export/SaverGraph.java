package dev.dks.savedmodels.export;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.model.TensorProtos;
import java.util.List;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SaverDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Adds the standard TF1 saver subgraph to a graph, the one TF Serving's loader runs to restore
 * variables: {@code save/Const} (checkpoint prefix), {@code save/SaveV2} with {@code
 * save/control_dependency}, {@code save/RestoreV2}, one {@code save/Assign_k} per variable and
 * {@code save/restore_all}; returns the matching {@link SaverDef} (format V2, not sharded).
 * Checkpoint keys are the variable node names.
 */
final class SaverGraph {
  private SaverGraph() {}

  /** Adds the saver for {@code variables} (VariableV2 node names) with these dtypes. */
  static SaverDef add(GraphView g, List<String> variables, List<DataType> dtypes) {
    g.add(stringConst("save/Const", List.of("model")));
    g.add(stringConst("save/SaveV2/tensor_names", variables));
    g.add(stringConst("save/SaveV2/shape_and_slices",
        java.util.Collections.nCopies(variables.size(), "")));
    AttrValue.ListValue.Builder types = AttrValue.ListValue.newBuilder();
    dtypes.forEach(types::addType);
    AttrValue dtypeList = AttrValue.newBuilder().setList(types).build();
    Nodes.Builder save = Nodes.op("SaveV2", "save/SaveV2").input("save/Const")
        .input("save/SaveV2/tensor_names").input("save/SaveV2/shape_and_slices");
    variables.forEach(save::input);
    g.add(save.attr("dtypes", dtypeList).build());
    g.add(Nodes.op("Identity", "save/control_dependency").input("save/Const")
        .input("^save/SaveV2").type("T", DataType.DT_STRING).build());
    g.add(stringConst("save/RestoreV2/tensor_names", variables));
    g.add(stringConst("save/RestoreV2/shape_and_slices",
        java.util.Collections.nCopies(variables.size(), "")));
    g.add(Nodes.op("RestoreV2", "save/RestoreV2").input("save/Const")
        .input("save/RestoreV2/tensor_names").input("save/RestoreV2/shape_and_slices")
        .attr("dtypes", dtypeList).build());
    Nodes.Builder restoreAll = Nodes.op("NoOp", "save/restore_all");
    for (int i = 0; i < variables.size(); i++) {
      String assign = "save/Assign_" + i;
      g.add(Nodes.op("Assign", assign).input(variables.get(i))
          .input("save/RestoreV2:" + i).type("T", dtypes.get(i))
          .attr("use_locking", AttrValue.newBuilder().setB(true).build())
          .attr("validate_shape", AttrValue.newBuilder().setB(true).build()).build());
      restoreAll.input("^" + assign);
    }
    g.add(restoreAll.build());
    return SaverDef.newBuilder().setFilenameTensorName("save/Const:0")
        .setSaveTensorName("save/control_dependency:0").setRestoreOpName("save/restore_all")
        .setMaxToKeep(5).setSharded(false).setKeepCheckpointEveryNHours(10000f)
        .setVersion(SaverDef.CheckpointFormatVersion.V2).build();
  }

  private static NodeDef stringConst(String name, List<String> values) {
    TensorProto.Builder t = TensorProto.newBuilder().setDtype(DataType.DT_STRING);
    if (values.size() == 1 && name.equals("save/Const")) {
      t.setTensorShape(TensorShapeProto.getDefaultInstance());
    } else {
      t.setTensorShape(TensorProtos.shapeProto(new long[] {values.size()}));
    }
    values.forEach(v -> t.addStringVal(com.google.protobuf.ByteString.copyFromUtf8(v)));
    return Nodes.constant(name, t.build());
  }
}
