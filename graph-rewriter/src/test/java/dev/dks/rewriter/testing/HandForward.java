package dev.dks.rewriter.testing;

import dev.dks.rewriter.model.TensorProtos;
import java.util.Map;
import org.tensorflow.proto.TensorProto;

/**
 * A forward pass of {@link DenseNets} layers in plain Java (row-major [batch, width] arrays), the
 * independent side of value tests: dense = x W + b, relu, weighted sums.
 */
public final class HandForward {
  private final Map<String, TensorProto> vars;
  private final int width;

  public HandForward(Map<String, TensorProto> vars, int width) {
    this.vars = vars;
    this.width = width;
  }

  /** Dense layer number {@code layer} of the net (1-based, in creation order). */
  public double[] dense(int layer, double[] x) {
    float[] w = TensorProtos.floats(vars.get("dense" + layer + "/kernel"));
    float[] b = TensorProtos.floats(vars.get("dense" + layer + "/bias"));
    int batch = x.length / width;
    double[] y = new double[x.length];
    for (int r = 0; r < batch; r++) {
      for (int j = 0; j < width; j++) {
        double s = b[j];
        for (int i = 0; i < width; i++) {
          s += x[r * width + i] * w[i * width + j];
        }
        y[r * width + j] = s;
      }
    }
    return y;
  }

  public static double[] relu(double[] x) {
    double[] y = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      y[i] = Math.max(0, x[i]);
    }
    return y;
  }

  /** sum_i w[i] * xs[i]. */
  public static double[] sum(double[] w, double[]... xs) {
    double[] y = new double[xs[0].length];
    for (int k = 0; k < xs.length; k++) {
      for (int i = 0; i < y.length; i++) {
        y[i] += w[k] * xs[k][i];
      }
    }
    return y;
  }

  public static double[] of(TensorProto t) {
    float[] f = TensorProtos.floats(t);
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  public static double maxAbsDiff(double[] a, float[] b) {
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }
}
