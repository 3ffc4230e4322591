package dev.dks.rewriter.activation;

import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/** Scalar {@code Const} nodes of a floating dtype (float or double). */
final class ScalarConstants {
  private ScalarConstants() {}

  static NodeDef of(String name, double v, DataType dtype) {
    TensorProto.Builder t = TensorProto.newBuilder().setDtype(dtype)
        .setTensorShape(TensorShapeProto.getDefaultInstance());
    switch (dtype) {
      case DT_FLOAT -> t.addFloatVal((float) v);
      case DT_DOUBLE -> t.addDoubleVal(v);
      default -> throw new IllegalArgumentException("shaped activations are emitted for float "
          + "or double tensors, not " + dtype + ": cast the model to float32 first");
    }
    return NodeDef.newBuilder().setOp("Const").setName(name)
        .putAttr("dtype", AttrValue.newBuilder().setType(dtype).build())
        .putAttr("value", AttrValue.newBuilder().setTensor(t).build()).build();
  }
}
