package dev.dks.benchmarks.corpus;

import com.google.protobuf.ByteString;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.model.TensorSpec;
import dev.dks.savedmodels.TensorValues;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

/**
 * Random inputs for a signature and runs of a session on them, for any input dtype the corpus has
 * (float32 images in [0, 1), int32 and uint8 images in 0..255). Shapes: a -1 batch dimension is
 * 1, another -1 dimension 256, an input without a shape a scalar (the corpus's only such inputs
 * are rvm's recurrent states and its downsample ratio, fed 0.5). Output values are compared and
 * checked for finiteness as doubles, whatever their dtype.
 */
public final class Feeds {
  private Feeds() {}

  /** Random feeds keyed by signature input key. */
  public static Map<String, TensorProto> random(Signature s, long seed) {
    Random rnd = new Random(seed);
    Map<String, TensorProto> out = new LinkedHashMap<>();
    for (Map.Entry<String, TensorSpec> e : s.inputs().entrySet()) {
      out.put(e.getKey(), random(e.getKey(), e.getValue(), rnd));
    }
    return out;
  }

  private static TensorProto random(String key, TensorSpec spec, Random rnd) {
    long[] shape = spec.shape() == null ? new long[0] : spec.shape().clone();
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] < 0) {
        shape[i] = i == 0 ? 1 : 256;
      }
    }
    long count = 1;
    for (long d : shape) {
      count *= d;
    }
    int n = Math.toIntExact(count);
    DataType dt = TensorValues.baseType(spec.dtype());
    ByteBuffer b;
    switch (dt) {
      case DT_FLOAT -> {
        b = le(4 * n);
        for (int i = 0; i < n; i++) {
          b.putFloat(shape.length == 0 ? 0.5f : rnd.nextFloat());
        }
      }
      case DT_INT32 -> {
        b = le(4 * n);
        for (int i = 0; i < n; i++) {
          b.putInt(rnd.nextInt(256));
        }
      }
      case DT_UINT8 -> {
        b = le(n);
        for (int i = 0; i < n; i++) {
          b.put((byte) rnd.nextInt(256));
        }
      }
      default -> throw new IllegalArgumentException("input '" + key + "' has dtype " + dt
          + ": the corpus feeds only float32, int32 and uint8 inputs");
    }
    b.flip();
    return TensorProto.newBuilder().setDtype(dt).setTensorShape(TensorProtos.shapeProto(shape))
        .setTensorContent(ByteString.copyFrom(b)).build();
  }

  private static ByteBuffer le(int bytes) {
    return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * Runs {@code session}: feeds by tensor name, fetches tensor names; values as TensorProtos
   * (every tensor closed here).
   */
  public static List<TensorProto> run(Session session, Map<String, TensorProto> feeds,
      List<String> fetches) {
    List<Tensor> opened = new ArrayList<>();
    try {
      Session.Runner r = session.runner();
      for (Map.Entry<String, TensorProto> f : feeds.entrySet()) {
        Tensor t = TensorValues.toTensor(f.getValue());
        opened.add(t);
        r.feed(f.getKey(), t);
      }
      fetches.forEach(r::fetch);
      List<TensorProto> out = new ArrayList<>();
      try (Result res = r.run()) {
        for (int i = 0; i < fetches.size(); i++) {
          out.add(TensorValues.toProto(res.get(i)));
        }
      }
      return out;
    } finally {
      opened.forEach(Tensor::close);
    }
  }

  /** The values of a numeric TensorProto with {@code tensor_content}, as doubles. */
  public static double[] values(TensorProto t) {
    ByteBuffer b = t.getTensorContent().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    DataType dt = TensorValues.baseType(t.getDtype());
    int size = switch (dt) {
      case DT_FLOAT, DT_INT32 -> 4;
      case DT_DOUBLE, DT_INT64 -> 8;
      case DT_UINT8, DT_BOOL -> 1;
      default -> throw new IllegalArgumentException("cannot compare " + dt + " values");
    };
    double[] v = new double[b.remaining() / size];
    for (int i = 0; i < v.length; i++) {
      v[i] = switch (dt) {
        case DT_FLOAT -> b.getFloat();
        case DT_INT32 -> b.getInt();
        case DT_DOUBLE -> b.getDouble();
        case DT_INT64 -> b.getLong();
        default -> b.get() & 0xFF;
      };
    }
    return v;
  }

  /**
   * The largest difference between {@code a} and {@code b} relative to {@code max(1, max|b|)};
   * NaN where both are NaN counts as equal; infinite when the shapes or dtypes differ or only one
   * is NaN.
   */
  public static double relativeDifference(TensorProto a, TensorProto b) {
    if (a.getDtype() != b.getDtype() || !a.getTensorShape().equals(b.getTensorShape())) {
      return Double.POSITIVE_INFINITY;
    }
    double[] x = values(a);
    double[] y = values(b);
    double scale = 1;
    for (double v : y) {
      if (Double.isFinite(v)) {
        scale = Math.max(scale, Math.abs(v));
      }
    }
    double worst = 0;
    for (int i = 0; i < x.length; i++) {
      if (Double.isNaN(x[i]) && Double.isNaN(y[i])) {
        continue;
      }
      if (x[i] == y[i]) {
        continue;
      }
      double d = Math.abs(x[i] - y[i]) / scale;
      worst = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(worst, d);
    }
    return worst;
  }

  /** True when every value of {@code t} is finite. */
  public static boolean finite(TensorProto t) {
    for (double v : values(t)) {
      if (!Double.isFinite(v)) {
        return false;
      }
    }
    return true;
  }
}
