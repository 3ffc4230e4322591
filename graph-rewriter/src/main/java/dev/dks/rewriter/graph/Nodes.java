package dev.dks.rewriter.graph;

import com.google.protobuf.ByteString;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Small helpers to build {@link NodeDef}s by hand: {@code Nodes.op("Mul", "a/mul").input(x)
 * .input(y).type("T", DataType.DT_FLOAT).build()}; plus scalar float constants.
 */
public final class Nodes {
  private Nodes() {}

  /** Whether {@code consumer} reads an output of {@code producer} through a data (not control) input. */
  public static boolean readsData(NodeDef consumer, String producer) {
    for (String in : consumer.getInputList()) {
      TensorName t = TensorName.parse(in);
      if (!t.isControl() && t.node().equals(producer)) {
        return true;
      }
    }
    return false;
  }

  /** A name scope no node of {@code g} uses: {@code base}, else {@code base_1}, {@code base_2}, ... */
  public static String freeScope(GraphDef g, String base) {
    Set<String> names = new HashSet<>();
    g.getNodeList().forEach(n -> names.add(n.getName()));
    for (int i = 0; ; i++) {
      String p = i == 0 ? base : base + "_" + i;
      String slash = p + "/";
      if (!names.contains(p) && names.stream().noneMatch(n -> n.startsWith(slash))) {
        return p;
      }
    }
  }

  /** Starts a node of type {@code op} named {@code name}. */
  public static Builder op(String op, String name) {
    return new Builder(op, name);
  }

  /** A float32 scalar {@code Const} node. */
  public static NodeDef floatScalar(String name, float value) {
    TensorProto t = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT)
        .setTensorShape(TensorShapeProto.getDefaultInstance()).addFloatVal(value).build();
    return op("Const", name).type("dtype", DataType.DT_FLOAT)
        .attr("value", AttrValue.newBuilder().setTensor(t).build()).build();
  }

  /** A {@code Const} node holding {@code tensor}. */
  public static NodeDef constant(String name, TensorProto tensor) {
    return op("Const", name).type("dtype", tensor.getDtype())
        .attr("value", AttrValue.newBuilder().setTensor(tensor).build()).build();
  }

  /** Fluent NodeDef builder. */
  public static final class Builder {
    private final NodeDef.Builder b;

    private Builder(String op, String name) {
      b = NodeDef.newBuilder().setOp(op).setName(name);
    }

    /** Appends a data input. */
    public Builder input(TensorName t) {
      b.addInput(t.toString());
      return this;
    }

    /** Appends a data input in GraphDef syntax. */
    public Builder input(String t) {
      b.addInput(t);
      return this;
    }

    /** Appends inputs. */
    public Builder inputs(List<String> ts) {
      b.addAllInput(ts);
      return this;
    }

    /** Sets a type attribute. */
    public Builder type(String attr, DataType t) {
      b.putAttr(attr, AttrValue.newBuilder().setType(t).build());
      return this;
    }

    /** Sets a float attribute. */
    public Builder attr(String attr, float v) {
      b.putAttr(attr, AttrValue.newBuilder().setF(v).build());
      return this;
    }

    /** Sets a string attribute. */
    public Builder attr(String attr, String v) {
      b.putAttr(attr, AttrValue.newBuilder().setS(ByteString.copyFromUtf8(v)).build());
      return this;
    }

    /** Sets any attribute. */
    public Builder attr(String attr, AttrValue v) {
      b.putAttr(attr, v);
      return this;
    }

    /** Sets the requested device. */
    public Builder device(String device) {
      b.setDevice(device);
      return this;
    }

    /** The node. */
    public NodeDef build() {
      return b.build();
    }
  }
}
