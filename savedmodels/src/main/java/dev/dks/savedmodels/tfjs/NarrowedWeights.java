package dev.dks.savedmodels.tfjs;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

/**
 * Widens a TensorFlow.js weight to the dtype its graph node declares. The TF.js converter stores
 * only {@code float32}, {@code int32}, {@code bool} and {@code string} weights, so a {@code
 * DT_DOUBLE} constant is shipped as {@code float32} and a {@code DT_INT64} constant as {@code
 * int32} (TF.js computes in those narrower types). The graph still declares the original type, and
 * the ops that read the constant (a {@code Mul} with a float64 tensor, a {@code Reshape} shape
 * held in int64) need it, so the value is widened back: every float32 is exactly a double, every
 * int32 exactly an int64 (sign-extended), so widening loses nothing and restores what TF.js
 * computes with.
 *
 * <p>Only these two exact widenings are done; any other disagreement between a weight's dtype and
 * its node's is left to the reader's typed error.
 */
final class NarrowedWeights {
  private NarrowedWeights() {}

  /** True when a weight stored as {@code stored} can be widened exactly to {@code declared}. */
  static boolean canWiden(DataType stored, DataType declared) {
    return (stored == DataType.DT_FLOAT && declared == DataType.DT_DOUBLE)
        || (stored == DataType.DT_INT32 && declared == DataType.DT_INT64);
  }

  /**
   * The value of {@code t} (a {@code DT_FLOAT} or {@code DT_INT32} tensor with {@code
   * tensor_content}, as {@link TfjsWeights} writes it) as a {@code declared} tensor of the same
   * shape.
   *
   * @throws IllegalArgumentException when {@link #canWiden} is false for the pair
   */
  static TensorProto widen(TensorProto t, DataType declared) {
    if (!canWiden(t.getDtype(), declared)) {
      throw new IllegalArgumentException("cannot widen " + t.getDtype() + " to " + declared);
    }
    ByteBuffer in = t.getTensorContent().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    int n = in.remaining() / 4;
    ByteBuffer out = ByteBuffer.allocate(8 * n).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      if (declared == DataType.DT_DOUBLE) {
        out.putDouble(in.getFloat());
      } else {
        out.putLong(in.getInt());
      }
    }
    out.flip();
    return t.toBuilder().setDtype(declared).setTensorContent(ByteString.copyFrom(out)).build();
  }
}
