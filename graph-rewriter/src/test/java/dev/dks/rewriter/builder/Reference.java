package dev.dks.rewriter.builder;

import dev.dks.rewriter.model.TensorProtos;
import java.util.Map;
import java.util.function.DoubleUnaryOperator;
import org.tensorflow.proto.TensorProto;

/**
 * A naive double-precision NHWC forward pass written from the textbook definitions (TF's SAME
 * padding, HWIO kernels, inference batch norm), reading the weights by variable name. The tests
 * compare it with what TensorFlow computes on the built graph, and the pass tests use it as the
 * hand computation of what a rewritten graph must compute.
 */
public final class Reference {
  private final Map<String, TensorProto> vars;

  public Reference(Map<String, TensorProto> vars) {
    this.vars = vars;
  }

  /** An NHWC tensor. */
  public record T(int n, int h, int w, int c, double[] v) {
    public static T zeros(int n, int h, int w, int c) {
      return new T(n, h, w, c, new double[n * h * w * c]);
    }

    public int at(int b, int y, int x, int ch) {
      return ((b * h + y) * w + x) * c + ch;
    }
  }

  public static T input(TensorProto p) {
    long[] s = TensorProtos.shape(p);
    float[] f = TensorProtos.floats(p);
    double[] v = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      v[i] = f[i];
    }
    return new T((int) s[0], (int) s[1], (int) s[2], (int) s[3], v);
  }

  private double[] var(String name) {
    TensorProto t = vars.get(name);
    if (t == null) {
      throw new AssertionError("no variable " + name);
    }
    float[] f = TensorProtos.floats(t);
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  /** Conv2D SAME (kernel {@code scope/kernel}, HWIO) plus {@code scope/bias} when present. */
  public T conv(T x, String scope, int stride) {
    long[] ks = TensorProtos.shape(vars.get(scope + "/kernel"));
    int k = (int) ks[0];
    int out = (int) ks[3];
    double[] w = var(scope + "/kernel");
    int oh = (x.h() + stride - 1) / stride;
    int ow = (x.w() + stride - 1) / stride;
    int padH = Math.max((oh - 1) * stride + k - x.h(), 0) / 2;
    int padW = Math.max((ow - 1) * stride + k - x.w(), 0) / 2;
    T y = T.zeros(x.n(), oh, ow, out);
    for (int b = 0; b < x.n(); b++) {
      for (int i = 0; i < oh; i++) {
        for (int j = 0; j < ow; j++) {
          for (int o = 0; o < out; o++) {
            double s = 0;
            for (int di = 0; di < k; di++) {
              int yy = i * stride + di - padH;
              if (yy < 0 || yy >= x.h()) {
                continue;
              }
              for (int dj = 0; dj < k; dj++) {
                int xx = j * stride + dj - padW;
                if (xx < 0 || xx >= x.w()) {
                  continue;
                }
                for (int ci = 0; ci < x.c(); ci++) {
                  s += x.v()[x.at(b, yy, xx, ci)] * w[((di * k + dj) * x.c() + ci) * out + o];
                }
              }
            }
            y.v()[y.at(b, i, j, o)] = s;
          }
        }
      }
    }
    return bias(y, scope);
  }

  private T bias(T y, String scope) {
    if (!vars.containsKey(scope + "/bias")) {
      return y;
    }
    double[] bias = var(scope + "/bias");
    for (int i = 0; i < y.v().length; i++) {
      y.v()[i] += bias[i % y.c()];
    }
    return y;
  }

  /** Inference batch norm: gamma (x - mean) / sqrt(var + 1.001e-5) + beta, per channel. */
  public T bn(T x, String scope) {
    double[] g = var(scope + "/gamma");
    double[] be = var(scope + "/beta");
    double[] m = var(scope + "/moving_mean");
    double[] va = var(scope + "/moving_variance");
    T y = T.zeros(x.n(), x.h(), x.w(), x.c());
    for (int i = 0; i < x.v().length; i++) {
      int ch = i % x.c();
      y.v()[i] = g[ch] * (x.v()[i] - m[ch]) / Math.sqrt(va[ch] + 1.001e-5) + be[ch];
    }
    return y;
  }

  public static T act(T x, DoubleUnaryOperator f) {
    T y = T.zeros(x.n(), x.h(), x.w(), x.c());
    for (int i = 0; i < x.v().length; i++) {
      y.v()[i] = f.applyAsDouble(x.v()[i]);
    }
    return y;
  }

  /** a * wa + b * wb. */
  public static T sum(T a, double wa, T b, double wb) {
    T y = T.zeros(a.n(), a.h(), a.w(), a.c());
    for (int i = 0; i < a.v().length; i++) {
      y.v()[i] = wa * a.v()[i] + wb * b.v()[i];
    }
    return y;
  }

  /** k x k pooling, stride s, SAME; the average counts only the window inside the input. */
  public static T pool(T x, int k, int s, boolean max) {
    int oh = (x.h() + s - 1) / s;
    int ow = (x.w() + s - 1) / s;
    int padH = Math.max((oh - 1) * s + k - x.h(), 0) / 2;
    int padW = Math.max((ow - 1) * s + k - x.w(), 0) / 2;
    T y = T.zeros(x.n(), oh, ow, x.c());
    for (int b = 0; b < x.n(); b++) {
      for (int i = 0; i < oh; i++) {
        for (int j = 0; j < ow; j++) {
          for (int ch = 0; ch < x.c(); ch++) {
            double acc = max ? Double.NEGATIVE_INFINITY : 0;
            int cnt = 0;
            for (int di = 0; di < k; di++) {
              for (int dj = 0; dj < k; dj++) {
                int yy = i * s + di - padH;
                int xx = j * s + dj - padW;
                if (yy < 0 || yy >= x.h() || xx < 0 || xx >= x.w()) {
                  continue;
                }
                double v = x.v()[x.at(b, yy, xx, ch)];
                acc = max ? Math.max(acc, v) : acc + v;
                cnt++;
              }
            }
            y.v()[y.at(b, i, j, ch)] = max ? acc : acc / cnt;
          }
        }
      }
    }
    return y;
  }

  /** Global average over H and W: [n][c]. */
  public static double[][] mean(T x) {
    double[][] m = new double[x.n()][x.c()];
    for (int b = 0; b < x.n(); b++) {
      for (int i = 0; i < x.h(); i++) {
        for (int j = 0; j < x.w(); j++) {
          for (int ch = 0; ch < x.c(); ch++) {
            m[b][ch] += x.v()[x.at(b, i, j, ch)] / (x.h() * x.w());
          }
        }
      }
    }
    return m;
  }

  /** Row-major flatten of each example: [n][h*w*c]. */
  public static double[][] flatten(T x) {
    int d = x.h() * x.w() * x.c();
    double[][] f = new double[x.n()][d];
    for (int b = 0; b < x.n(); b++) {
      System.arraycopy(x.v(), b * d, f[b], 0, d);
    }
    return f;
  }

  /** x K ({@code scope/kernel} [in, out]) plus {@code scope/bias} when present. */
  public double[][] dense(double[][] x, String scope) {
    long[] ks = TensorProtos.shape(vars.get(scope + "/kernel"));
    int in = (int) ks[0];
    int out = (int) ks[1];
    double[] k = var(scope + "/kernel");
    double[] bias = vars.containsKey(scope + "/bias") ? var(scope + "/bias") : new double[out];
    double[][] y = new double[x.length][out];
    for (int b = 0; b < x.length; b++) {
      for (int o = 0; o < out; o++) {
        double s = bias[o];
        for (int i = 0; i < in; i++) {
          s += x[b][i] * k[i * out + o];
        }
        y[b][o] = s;
      }
    }
    return y;
  }

  /** A rank-2 [n][c] as an NHWC [n, 1, 1, c] (for BN and activations on dense outputs). */
  public static T asNhwc(double[][] x) {
    int c = x[0].length;
    T t = T.zeros(x.length, 1, 1, c);
    for (int b = 0; b < x.length; b++) {
      System.arraycopy(x[b], 0, t.v(), b * c, c);
    }
    return t;
  }

  public static double[][] asMatrix(T t) {
    return flatten(t);
  }
}
