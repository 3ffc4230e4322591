package dev.dks.rewriter.model;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import dev.dks.rewriter.safety.TensorBounds;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;
import org.tensorflow.types.TFloat32;

/**
 * Conversions between float32 {@link TensorProto}s (the rewriter's storage for variable values)
 * and Java arrays or TF Java tensors. Values are row-major (C order), shapes as {@code long[]}.
 * Reads both the packed {@code tensor_content} form and the {@code float_val} form (including its
 * one-value broadcast); a proto whose shape its content does not fill, or whose broadcast would
 * exceed {@link TensorBounds}' budget, is refused before allocating.
 */
public final class TensorProtos {
  private TensorProtos() {}

  /** A float32 TensorProto of this shape holding {@code values} in row-major order. */
  public static TensorProto ofFloats(long[] shape, float[] values) {
    long n = elementCount(shape);
    if (n != values.length) {
      throw new IllegalArgumentException("shape " + java.util.Arrays.toString(shape) + " holds "
          + n + " values, got " + values.length);
    }
    ByteBuffer bb = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    bb.asFloatBuffer().put(values);
    return TensorProto.newBuilder().setDtype(DataType.DT_FLOAT).setTensorShape(shapeProto(shape))
        .setTensorContent(ByteString.copyFrom(bb.array())).build();
  }

  /** The values of a float32 TensorProto, row-major. */
  public static float[] floats(TensorProto t) {
    if (t.getDtype() != DataType.DT_FLOAT) {
      throw new IllegalArgumentException("expected a DT_FLOAT tensor, got " + t.getDtype());
    }
    TensorBounds.check(t, "a float tensor", TensorBounds.defaultBudget());
    long n = elementCount(shape(t));
    float[] out = new float[Math.toIntExact(n)];
    if (!t.getTensorContent().isEmpty()) {
      FloatBuffer fb = t.getTensorContent().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN)
          .asFloatBuffer();
      fb.get(out);
    } else if (t.getFloatValCount() == 1) {
      java.util.Arrays.fill(out, t.getFloatVal(0));
    } else {
      for (int i = 0; i < t.getFloatValCount() && i < out.length; i++) {
        out[i] = t.getFloatVal(i);
      }
    }
    return out;
  }

  /** The shape of a TensorProto. */
  public static long[] shape(TensorProto t) {
    return t.getTensorShape().getDimList().stream().mapToLong(TensorShapeProto.Dim::getSize)
        .toArray();
  }

  /** A new float32 TF Java tensor with the proto's values (caller closes it). */
  public static TFloat32 toTensor(TensorProto t) {
    return TFloat32.tensorOf(Shape.of(shape(t)), DataBuffers.of(floats(t), true, false));
  }

  /** A float32 TensorProto copied from a TF Java tensor. */
  public static TensorProto fromTensor(Tensor t) {
    if (!(t instanceof TFloat32 f)) {
      throw new IllegalArgumentException("only float32 tensors are supported, got "
          + t.dataType());
    }
    long[] shape = f.shape().asArray();
    float[] v = new float[Math.toIntExact(f.shape().size())];
    f.copyTo(DataBuffers.of(v, false, false));
    return ofFloats(shape, v);
  }

  /** A TensorShapeProto for {@code shape} (-1 = unknown dimension). */
  public static TensorShapeProto shapeProto(long[] shape) {
    TensorShapeProto.Builder b = TensorShapeProto.newBuilder();
    for (long d : shape) {
      b.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
    }
    return b.build();
  }

  private static long elementCount(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }
}
