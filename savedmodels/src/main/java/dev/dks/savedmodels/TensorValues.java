package dev.dks.savedmodels;

import com.google.protobuf.ByteString;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.safety.TensorBounds;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.NdArrays;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;
import org.tensorflow.types.TBfloat16;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat16;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TString;
import org.tensorflow.types.TUint16;
import org.tensorflow.types.TUint8;
import org.tensorflow.types.family.TType;

/**
 * Conversions between TF Java tensors and {@link TensorProto}s for every dtype TF Java 1.1.0 has a
 * tensor class for (float16/32/64, bfloat16, int32/64, uint8/16, bool, string). Numeric values are
 * stored as little-endian {@code tensor_content}, as TensorFlow itself writes them, so float32
 * protos are the ones {@link dev.dks.rewriter.model.TensorProtos} reads. TF Java has no tensor
 * class for int8, int16, uint32, uint64 or complex types: those fail with a message naming the
 * dtype.
 */
public final class TensorValues {
  private TensorValues() {}

  private static final Map<DataType, Class<? extends TType>> CLASSES = Map.of(
      DataType.DT_FLOAT, TFloat32.class, DataType.DT_DOUBLE, TFloat64.class,
      DataType.DT_HALF, TFloat16.class, DataType.DT_BFLOAT16, TBfloat16.class,
      DataType.DT_INT32, TInt32.class, DataType.DT_INT64, TInt64.class,
      DataType.DT_UINT8, TUint8.class, DataType.DT_UINT16, TUint16.class,
      DataType.DT_BOOL, TBool.class, DataType.DT_STRING, TString.class);

  /** True when TF Java 1.1.0 can make a tensor of this dtype (ref types count as their base). */
  public static boolean supported(DataType dtype) {
    return CLASSES.containsKey(baseType(dtype));
  }

  /** The non-reference type of {@code dtype} ({@code DT_FLOAT_REF} becomes {@code DT_FLOAT}). */
  public static DataType baseType(DataType dtype) {
    int n = dtype.getNumber();
    return n > 100 ? DataType.forNumber(n - 100) : dtype;
  }

  /** A TensorProto copy of {@code t} (the tensor stays open: the caller closes it). */
  public static TensorProto toProto(Tensor t) {
    DataType dtype = baseType(t.dataType());
    TensorProto.Builder b = TensorProto.newBuilder().setDtype(dtype)
        .setTensorShape(TensorProtos.shapeProto(t.shape().asArray()));
    if (t instanceof TString s) {
      s.asBytes().scalars().forEach(v -> b.addStringVal(ByteString.copyFrom(v.getObject())));
      return b.build();
    }
    byte[] bytes = new byte[Math.toIntExact(t.numBytes())];
    t.asRawTensor().data().read(bytes);
    return b.setTensorContent(ByteString.copyFrom(bytes)).build();
  }

  /**
   * A new tensor holding the proto's values (the caller closes it). Reads {@code tensor_content}
   * and the typed value fields ({@code float_val}, {@code int_val}, ..., with the one-value
   * broadcast TensorFlow allows), after {@link TensorBounds#check} (a shape its content does
   * not fill, or a broadcast over the budget, is refused before allocating).
   */
  public static Tensor toTensor(TensorProto p) {
    DataType dtype = baseType(p.getDtype());
    Class<? extends TType> type = CLASSES.get(dtype);
    if (type == null) {
      throw new IllegalArgumentException("TF Java 1.1.0 has no tensor class for " + dtype);
    }
    TensorBounds.check(p, "a " + dtype + " tensor", TensorBounds.defaultBudget());
    long[] dims = p.getTensorShape().getDimList().stream().mapToLong(TensorShapeProto.Dim::getSize)
        .toArray();
    Shape shape = Shape.of(dims);
    long n = shape.size();
    if (dtype == DataType.DT_STRING) {
      List<byte[]> vals = new ArrayList<>();
      p.getStringValList().forEach(s -> vals.add(s.toByteArray()));
      byte[][] all = new byte[Math.toIntExact(n)][];
      for (int i = 0; i < all.length; i++) {
        all[i] = vals.isEmpty() ? new byte[0] : vals.get(Math.min(i, vals.size() - 1));
      }
      return TString.tensorOfBytes(NdArrays.wrap(shape, DataBuffers.ofObjects(all)));
    }
    byte[] content = p.getTensorContent().isEmpty() ? fromTypedValues(p, dtype, n)
        : p.getTensorContent().toByteArray();
    return Tensor.of(type, shape, DataBuffers.of(content, true, false));
  }

  private static byte[] fromTypedValues(TensorProto p, DataType dtype, long count) {
    int n = Math.toIntExact(count);
    ByteBuffer bb;
    switch (dtype) {
      case DT_FLOAT -> {
        bb = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
          bb.putFloat(pick(p.getFloatValList(), i, 0f));
        }
      }
      case DT_DOUBLE -> {
        bb = ByteBuffer.allocate(8 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
          bb.putDouble(pick(p.getDoubleValList(), i, 0d));
        }
      }
      case DT_INT32 -> {
        bb = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
          bb.putInt(pick(p.getIntValList(), i, 0));
        }
      }
      case DT_UINT8 -> {
        bb = ByteBuffer.allocate(n);
        for (int i = 0; i < n; i++) {
          bb.put((byte) (int) pick(p.getIntValList(), i, 0));
        }
      }
      case DT_INT64 -> {
        bb = ByteBuffer.allocate(8 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
          bb.putLong(pick(p.getInt64ValList(), i, 0L));
        }
      }
      case DT_BOOL -> {
        bb = ByteBuffer.allocate(n);
        for (int i = 0; i < n; i++) {
          bb.put((byte) (pick(p.getBoolValList(), i, false) ? 1 : 0));
        }
      }
      case DT_HALF, DT_BFLOAT16, DT_UINT16 -> {
        bb = ByteBuffer.allocate(2 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
          bb.putShort((short) (int) pick(p.getHalfValList(), i, 0));
        }
      }
      default -> throw new IllegalArgumentException("cannot convert a " + dtype + " TensorProto");
    }
    return bb.array();
  }

  private static <T> T pick(List<T> vals, int i, T zero) {
    if (vals.isEmpty()) {
      return zero;
    }
    return vals.get(Math.min(i, vals.size() - 1));
  }

  /** A TensorShapeProto for {@code dims}. */
  static TensorShapeProto shapeProto(long[] dims) {
    return TensorProtos.shapeProto(dims);
  }
}
