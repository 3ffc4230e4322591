package dev.dks.rewriter.passes.norm;

import dev.dks.rewriter.model.TensorProtos;
import java.util.Arrays;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

/**
 * A small dense float tensor (row-major) with NumPy broadcasting, used to evaluate the constant
 * parameter subgraphs of a normalization (gamma, beta, mean, variance, epsilon) in double
 * precision before rounding to float.
 */
final class FloatTensor {
  final long[] shape;
  final double[] values;

  FloatTensor(long[] shape, double[] values) {
    this.shape = shape.clone();
    this.values = values;
  }

  static FloatTensor scalar(double v) {
    return new FloatTensor(new long[0], new double[] {v});
  }

  /** The value of a float32 TensorProto; null for another dtype. */
  static FloatTensor of(TensorProto t) {
    if (t.getDtype() != DataType.DT_FLOAT) {
      return null;
    }
    float[] f = TensorProtos.floats(t);
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return new FloatTensor(TensorProtos.shape(t), d);
  }

  int size() {
    return values.length;
  }

  FloatTensor map(DoubleUnaryOperator op) {
    double[] out = new double[values.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = op.applyAsDouble(values[i]);
    }
    return new FloatTensor(shape, out);
  }

  /** Elementwise {@code op(a, b)} with NumPy broadcasting; null when the shapes do not agree. */
  static FloatTensor zip(FloatTensor a, FloatTensor b, DoubleBinaryOperator op) {
    int rank = Math.max(a.shape.length, b.shape.length);
    long[] out = new long[rank];
    for (int i = 0; i < rank; i++) {
      long da = dim(a.shape, i, rank);
      long db = dim(b.shape, i, rank);
      if (da != db && da != 1 && db != 1) {
        return null;
      }
      out[i] = Math.max(da, db);
    }
    int n = Math.toIntExact(count(out));
    double[] v = new double[n];
    long[] sa = strides(a.shape, rank);
    long[] sb = strides(b.shape, rank);
    long[] idx = new long[rank];
    for (int k = 0; k < n; k++) {
      long ia = 0;
      long ib = 0;
      for (int i = 0; i < rank; i++) {
        ia += idx[i] * sa[i];
        ib += idx[i] * sb[i];
      }
      v[k] = op.applyAsDouble(a.values[(int) ia], b.values[(int) ib]);
      for (int i = rank - 1; i >= 0; i--) {
        if (++idx[i] < out[i]) {
          break;
        }
        idx[i] = 0;
      }
    }
    return new FloatTensor(out, v);
  }

  /**
   * The values as one number per channel, when the tensor is constant along every axis but the
   * channel axis ({@code axisFromEnd} axes before the last; 0 = last axis): shapes {@code []},
   * {@code [C]}, {@code [1, C]}, {@code [1, 1, 1, C]}, or {@code [C, 1, 1]} for axisFromEnd 2.
   * Null when the tensor does not have that form or its channel count is neither 1 nor {@code c}.
   */
  double[] perChannel(int c, int axisFromEnd) {
    int rank = shape.length;
    int channelAxis = rank - 1 - axisFromEnd;
    for (int i = 0; i < rank; i++) {
      if (i != channelAxis && shape[i] != 1) {
        return null;
      }
    }
    double[] out = new double[c];
    if (values.length == 1) {
      Arrays.fill(out, values[0]);
      return out;
    }
    if (values.length != c) {
      return null;
    }
    return values.clone();
  }

  private static long dim(long[] s, int i, int rank) {
    int j = i - (rank - s.length);
    return j < 0 ? 1 : s[j];
  }

  private static long[] strides(long[] s, int rank) {
    long[] st = new long[rank];
    long acc = 1;
    for (int i = rank - 1; i >= 0; i--) {
      long d = dim(s, i, rank);
      st[i] = d == 1 ? 0 : acc;
      acc *= d;
    }
    return st;
  }

  private static long count(long[] s) {
    long n = 1;
    for (long d : s) {
      n *= d;
    }
    return n;
  }

  @Override
  public String toString() {
    return "FloatTensor" + Arrays.toString(shape);
  }
}
