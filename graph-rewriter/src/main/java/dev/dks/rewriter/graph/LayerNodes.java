package dev.dks.rewriter.graph;

import dev.dks.rewriter.model.TensorProtos;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * The NodeDefs of float32 NHWC layers as the model builders write them (the rewriter's {@code
 * ModelBuilder} and the Keras reader): placeholders, {@code VariableV2} weights read through an
 * {@code Identity}, convolutions, bias adds, inference-form batch norms, pooling, reductions and
 * reshapes, plus the attribute and int32 tensor values they take. Attributes are set in a fixed
 * order, so the same call always gives the same bytes; attributes a caller needs beyond these are
 * appended to the returned builders.
 */
public final class LayerNodes {
  private static final DataType F = DataType.DT_FLOAT;

  private LayerNodes() {}

  /** A float32 {@code Placeholder} of shape {@code shape} (-1 = any). */
  public static NodeDef placeholder(String name, long[] shape) {
    return Nodes.op("Placeholder", name).type("dtype", F).attr("shape", shape(shape)).build();
  }

  /** A float32 {@code VariableV2} of shape {@code shape}, no container, not shared. */
  public static NodeDef variable(String name, long[] shape) {
    return Nodes.op("VariableV2", name).type("dtype", F).attr("shape", shape(shape))
        .attr("container", "").attr("shared_name", "").build();
  }

  /** The {@code Identity} {@code variable/read} through which the layers read a variable. */
  public static NodeDef read(String variable) {
    return Nodes.op("Identity", variable + "/read").input(variable).type("T", F).build();
  }

  /**
   * {@code Conv2D} of {@code x} by an HWIO {@code kernel}, NHWC, strides {@code {h, w}}; append
   * {@code dilations} to the builder when they are not the default.
   */
  public static Nodes.Builder conv2d(String name, TensorName x, TensorName kernel, int[] strides,
      String padding) {
    return Nodes.op("Conv2D", name).input(x).input(kernel).type("T", F)
        .attr("strides", ints(1, strides[0], strides[1], 1)).attr("padding", padding)
        .attr("data_format", "NHWC");
  }

  /** {@code BiasAdd} of {@code x} and {@code bias}, NHWC. */
  public static NodeDef biasAdd(String name, TensorName x, TensorName bias) {
    return Nodes.op("BiasAdd", name).input(x).input(bias).type("T", F)
        .attr("data_format", "NHWC").build();
  }

  /** {@code FusedBatchNormV3} in inference form (is_training false), NHWC. */
  public static NodeDef fusedBatchNorm(String name, TensorName x, TensorName gamma,
      TensorName beta, TensorName mean, TensorName variance, float epsilon) {
    return Nodes.op("FusedBatchNormV3", name).input(x).input(gamma).input(beta).input(mean)
        .input(variance).type("T", F).type("U", F).attr("epsilon", epsilon)
        .attr("data_format", "NHWC").attr("is_training", bool(false)).build();
  }

  /** {@code op} ({@code MaxPool} or {@code AvgPool}) with window and strides {@code {h, w}}. */
  public static NodeDef pool(String op, String name, TensorName x, int[] ksize, int[] strides,
      String padding) {
    return Nodes.op(op, name).input(x).type("T", F).attr("ksize", ints(1, ksize[0], ksize[1], 1))
        .attr("strides", ints(1, strides[0], strides[1], 1)).attr("padding", padding)
        .attr("data_format", "NHWC").build();
  }

  /** The reduction {@code op} ({@code Mean}, {@code Max}, ...) of {@code x} over int32 axes. */
  public static NodeDef reduce(String op, String name, TensorName x, TensorName axes,
      boolean keepDims) {
    return Nodes.op(op, name).input(x).input(axes).type("T", F).type("Tidx", DataType.DT_INT32)
        .attr("keep_dims", bool(keepDims)).build();
  }

  /** {@code Reshape} of {@code x} to the int32 tensor {@code shape}. */
  public static NodeDef reshape(String name, TensorName x, TensorName shape) {
    return Nodes.op("Reshape", name).input(x).input(shape).type("T", F)
        .type("Tshape", DataType.DT_INT32).build();
  }

  /** A shape attribute (-1 = unknown dimension). */
  public static AttrValue shape(long[] shape) {
    return AttrValue.newBuilder().setShape(TensorProtos.shapeProto(shape)).build();
  }

  /** An int list attribute. */
  public static AttrValue ints(long... values) {
    AttrValue.ListValue.Builder l = AttrValue.ListValue.newBuilder();
    for (long x : values) {
      l.addI(x);
    }
    return AttrValue.newBuilder().setList(l).build();
  }

  /** A bool attribute. */
  public static AttrValue bool(boolean value) {
    return AttrValue.newBuilder().setB(value).build();
  }

  /** An int32 scalar tensor. */
  public static TensorProto int32Scalar(int value) {
    return int32(new long[0], new long[] {value});
  }

  /** An int32 vector tensor (each value must fit an int). */
  public static TensorProto int32Vector(long... values) {
    return int32(new long[] {values.length}, values);
  }

  /** An int32 matrix tensor of these rows, of equal lengths (each value must fit an int). */
  public static TensorProto int32Matrix(long[][] rows) {
    long[] values = new long[rows.length * rows[0].length];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(rows[i], 0, values, i * rows[0].length, rows[0].length);
    }
    return int32(new long[] {rows.length, rows[0].length}, values);
  }

  private static TensorProto int32(long[] shape, long[] values) {
    TensorProto.Builder t = TensorProto.newBuilder().setDtype(DataType.DT_INT32)
        .setTensorShape(TensorProtos.shapeProto(shape));
    for (long v : values) {
      t.addIntVal(Math.toIntExact(v));
    }
    return t.build();
  }
}
