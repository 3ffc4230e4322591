package dev.dks.trainers.kfac;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.google.protobuf.ByteString;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * {@link SubBatchForward#fixedBatchNode}: a flatten exported with the batch size in its constant
 * shape ({@code [128, -1]}) would break a copy that reads fewer rows, so it is found, whether
 * the constant stores its entries as int_val or as tensor_content; a dynamic batch ({@code [-1,
 * 784]}, control) and a constant shape on the weights' side (not input-dependent) are not.
 */
class SubBatchFixedBatchTest {

  @Test
  void findsABatchFixedInAFlattenShape() {
    assertEquals("flatten", SubBatchForward.fixedBatchNode(graph(intVal(128, -1)),
        new TensorName("x", 0), "logits"));
    assertEquals("flatten", SubBatchForward.fixedBatchNode(graph(content(128, -1)),
        new TensorName("x", 0), "logits"));
  }

  @Test
  void aDynamicBatchIsNotFixed() {
    assertNull(SubBatchForward.fixedBatchNode(graph(intVal(-1, 784)), new TensorName("x", 0),
        "logits"));
    assertNull(SubBatchForward.fixedBatchNode(graph(content(-1, 784)), new TensorName("x", 0),
        "logits"));
  }

  /** x [b, 28, 28, 1] -> Reshape(shape) -> MatMul(w reshaped by [784, 10]) = logits. */
  private static GraphDef graph(TensorProto shape) {
    return GraphDef.newBuilder()
        .addNode(Nodes.op("Placeholder", "x").type("dtype", DataType.DT_FLOAT).build())
        .addNode(Nodes.constant("flatten/shape", shape))
        .addNode(Nodes.op("Reshape", "flatten").input("x").input("flatten/shape")
            .type("T", DataType.DT_FLOAT).type("Tshape", DataType.DT_INT32).build())
        .addNode(Nodes.op("Placeholder", "w_flat").type("dtype", DataType.DT_FLOAT).build())
        .addNode(Nodes.constant("w/shape", intVal(784, 10)))
        .addNode(Nodes.op("Reshape", "w").input("w_flat").input("w/shape")
            .type("T", DataType.DT_FLOAT).type("Tshape", DataType.DT_INT32).build())
        .addNode(Nodes.op("MatMul", "logits").input("flatten").input("w")
            .type("T", DataType.DT_FLOAT).build())
        .build();
  }

  private static TensorProto intVal(int... v) {
    TensorProto.Builder t = TensorProto.newBuilder().setDtype(DataType.DT_INT32)
        .setTensorShape(TensorShapeProto.newBuilder()
            .addDim(TensorShapeProto.Dim.newBuilder().setSize(v.length)));
    for (int x : v) {
      t.addIntVal(x);
    }
    return t.build();
  }

  private static TensorProto content(int... v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (int x : v) {
      b.putInt(x);
    }
    return TensorProto.newBuilder().setDtype(DataType.DT_INT32)
        .setTensorShape(TensorShapeProto.newBuilder()
            .addDim(TensorShapeProto.Dim.newBuilder().setSize(v.length)))
        .setTensorContent(ByteString.copyFrom(b.array())).build();
  }
}
