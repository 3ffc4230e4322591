package dev.dks.savedmodels.keras;

/**
 * A tiny double-precision NHWC reference (batch 1) for checking built graphs: tensors are {@code
 * double[h][w][c]} flattened row-major with their dims. Padding follows TensorFlow's SAME rule
 * (extra padding at the end).
 */
final class ReferenceOps {
  private ReferenceOps() {}

  /** An HWC tensor. */
  record T(int h, int w, int c, double[] v) {
    double at(int y, int x, int ch) {
      return v[(y * w + x) * c + ch];
    }

    static T zeros(int h, int w, int c) {
      return new T(h, w, c, new double[h * w * c]);
    }
  }

  /** Where SAME padding starts, for one dimension. */
  static int samePadBefore(int in, int k, int s, int d) {
    int out = (in + s - 1) / s;
    int eff = (k - 1) * d + 1;
    int total = Math.max((out - 1) * s + eff - in, 0);
    return total / 2;
  }

  /** Conv2D with HWIO kernel {@code [kh][kw][cin][cout]} flattened. */
  static T conv(T x, float[] k, int kh, int kw, int cout, int s, int d, boolean same,
      float[] bias) {
    int oh = same ? (x.h() + s - 1) / s : (x.h() - ((kh - 1) * d + 1)) / s + 1;
    int ow = same ? (x.w() + s - 1) / s : (x.w() - ((kw - 1) * d + 1)) / s + 1;
    int pt = same ? samePadBefore(x.h(), kh, s, d) : 0;
    int pl = same ? samePadBefore(x.w(), kw, s, d) : 0;
    T y = T.zeros(oh, ow, cout);
    int cin = x.c();
    for (int oy = 0; oy < oh; oy++) {
      for (int ox = 0; ox < ow; ox++) {
        for (int co = 0; co < cout; co++) {
          double acc = bias == null ? 0 : bias[co];
          for (int i = 0; i < kh; i++) {
            int iy = oy * s + i * d - pt;
            if (iy < 0 || iy >= x.h()) {
              continue;
            }
            for (int j = 0; j < kw; j++) {
              int ix = ox * s + j * d - pl;
              if (ix < 0 || ix >= x.w()) {
                continue;
              }
              for (int ci = 0; ci < cin; ci++) {
                acc += x.at(iy, ix, ci) * k[((i * kw + j) * cin + ci) * cout + co];
              }
            }
          }
          y.v()[(oy * ow + ox) * cout + co] = acc;
        }
      }
    }
    return y;
  }

  /** Depthwise conv with kernel {@code [kh][kw][cin][mult]}; output channel {@code ci*mult+m}. */
  static T depthwise(T x, float[] k, int kh, int kw, int mult, int s, boolean same,
      float[] bias) {
    int oh = same ? (x.h() + s - 1) / s : (x.h() - kh) / s + 1;
    int ow = same ? (x.w() + s - 1) / s : (x.w() - kw) / s + 1;
    int pt = same ? samePadBefore(x.h(), kh, s, 1) : 0;
    int pl = same ? samePadBefore(x.w(), kw, s, 1) : 0;
    int cin = x.c();
    T y = T.zeros(oh, ow, cin * mult);
    for (int oy = 0; oy < oh; oy++) {
      for (int ox = 0; ox < ow; ox++) {
        for (int ci = 0; ci < cin; ci++) {
          for (int m = 0; m < mult; m++) {
            int co = ci * mult + m;
            double acc = bias == null ? 0 : bias[co];
            for (int i = 0; i < kh; i++) {
              int iy = oy * s + i - pt;
              if (iy < 0 || iy >= x.h()) {
                continue;
              }
              for (int j = 0; j < kw; j++) {
                int ix = ox * s + j - pl;
                if (ix >= 0 && ix < x.w()) {
                  acc += x.at(iy, ix, ci) * k[((i * kw + j) * cin + ci) * mult + m];
                }
              }
            }
            y.v()[(oy * ow + ox) * cin * mult + co] = acc;
          }
        }
      }
    }
    return y;
  }

  /** Inference batch norm over the channels. */
  static T batchNorm(T x, float[] gamma, float[] beta, float[] mean, float[] var, double eps) {
    double[] v = x.v().clone();
    int c = x.c();
    for (int i = 0; i < v.length; i++) {
      int ch = i % c;
      double g = gamma == null ? 1 : gamma[ch];
      double b = beta == null ? 0 : beta[ch];
      v[i] = (v[i] - mean[ch]) / Math.sqrt(var[ch] + eps) * g + b;
    }
    return new T(x.h(), x.w(), c, v);
  }

  /** Elementwise {@code max(0, x)}, capped at {@code cap} when it is finite. */
  static T relu(T x, double cap) {
    double[] v = x.v().clone();
    for (int i = 0; i < v.length; i++) {
      v[i] = Math.min(Math.max(v[i], 0), cap);
    }
    return new T(x.h(), x.w(), x.c(), v);
  }

  /** Elementwise sum. */
  static T add(T a, T b) {
    double[] v = a.v().clone();
    for (int i = 0; i < v.length; i++) {
      v[i] += b.v()[i];
    }
    return new T(a.h(), a.w(), a.c(), v);
  }

  /** Average (or max) pooling, VALID or SAME padding (SAME averages only the real cells). */
  static T pool(T x, int k, int s, boolean same, boolean max) {
    int oh = same ? (x.h() + s - 1) / s : (x.h() - k) / s + 1;
    int ow = same ? (x.w() + s - 1) / s : (x.w() - k) / s + 1;
    int pt = same ? samePadBefore(x.h(), k, s, 1) : 0;
    int pl = same ? samePadBefore(x.w(), k, s, 1) : 0;
    T y = T.zeros(oh, ow, x.c());
    for (int oy = 0; oy < oh; oy++) {
      for (int ox = 0; ox < ow; ox++) {
        for (int ch = 0; ch < x.c(); ch++) {
          double acc = max ? Double.NEGATIVE_INFINITY : 0;
          int n = 0;
          for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
              int iy = oy * s + i - pt;
              int ix = ox * s + j - pl;
              if (iy >= 0 && iy < x.h() && ix >= 0 && ix < x.w()) {
                double v = x.at(iy, ix, ch);
                acc = max ? Math.max(acc, v) : acc + v;
                n++;
              }
            }
          }
          y.v()[(oy * ow + ox) * x.c() + ch] = max ? acc : acc / n;
        }
      }
    }
    return y;
  }

  /** Zero padding: top, bottom, left, right. */
  static T pad(T x, int t, int b, int l, int r) {
    T y = T.zeros(x.h() + t + b, x.w() + l + r, x.c());
    for (int i = 0; i < x.h(); i++) {
      for (int j = 0; j < x.w(); j++) {
        for (int ch = 0; ch < x.c(); ch++) {
          y.v()[((i + t) * y.w() + j + l) * x.c() + ch] = x.at(i, j, ch);
        }
      }
    }
    return y;
  }

  /** Mean over height and width. */
  static double[] globalMean(T x) {
    double[] out = new double[x.c()];
    for (int i = 0; i < x.v().length; i++) {
      out[i % x.c()] += x.v()[i];
    }
    for (int ch = 0; ch < out.length; ch++) {
      out[ch] /= x.h() * x.w();
    }
    return out;
  }

  /** {@code x · K + b} with K {@code [in][out]} flattened. */
  static double[] dense(double[] x, float[] k, float[] b, int out) {
    double[] y = new double[out];
    for (int o = 0; o < out; o++) {
      double acc = b == null ? 0 : b[o];
      for (int i = 0; i < x.length; i++) {
        acc += x[i] * k[i * out + o];
      }
      y[o] = acc;
    }
    return y;
  }

  /** Softmax. */
  static double[] softmax(double[] z) {
    double m = Double.NEGATIVE_INFINITY;
    for (double v : z) {
      m = Math.max(m, v);
    }
    double s = 0;
    double[] p = new double[z.length];
    for (int i = 0; i < z.length; i++) {
      p[i] = Math.exp(z[i] - m);
      s += p[i];
    }
    for (int i = 0; i < z.length; i++) {
      p[i] /= s;
    }
    return p;
  }

  /** {@code max |a - b| / max |b|}. */
  static double relError(float[] a, double[] b) {
    double num = 0;
    double den = 0;
    for (int i = 0; i < b.length; i++) {
      num = Math.max(num, Math.abs(a[i] - b[i]));
      den = Math.max(den, Math.abs(b[i]));
    }
    return num / Math.max(den, 1e-30);
  }
}
