package dev.dks.trainers.kfac;

import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.model.TensorSpec;
import dev.dks.trainers.graph.TrainingGraph;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * Tiny models built directly from TF ops, session helpers that run the K-FAC targets of a
 * {@link TrainingGraph} by name, and the plain-Java double-precision reference arithmetic (forward
 * passes, softmax, TF-convention patch extraction, Gauss-Jordan inverse/solve) the exactness
 * tests compare against. Nothing here calls K-FAC code.
 */
final class KfacFixtures {
  private KfacFixtures() {}

  // ---------------------------------------------------------------- models

  /** logits = x W + b: input [-1, din], W [din, k], b [k]. */
  static Model dense(int din, int k, float[] w, float[] b) {
    GraphDef def;
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Operand<TFloat32> x = tf.withName("input").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, din)));
      Operand<TFloat32> wv = tf.withName("w").variable(Shape.of(din, k), TFloat32.class);
      Operand<TFloat32> bv = tf.withName("b").variable(Shape.of(k), TFloat32.class);
      tf.withName("logits").nn.biasAdd(tf.withName("mm").linalg.matMul(x, wv), bv);
      def = g.toGraphDef();
    }
    Map<String, org.tensorflow.proto.TensorProto> vars = new LinkedHashMap<>();
    vars.put("w", TensorProtos.ofFloats(new long[] {din, k}, w));
    vars.put("b", TensorProtos.ofFloats(new long[] {k}, b));
    return new Model(def, vars, List.of(signature(new long[] {-1, din}, k)));
  }

  /** logits = tanh(x W1 + b1) W2 + b2: input [-1, din], hidden h, k classes. */
  static Model mlp(int din, int h, int k, float[] w1, float[] b1, float[] w2, float[] b2) {
    GraphDef def;
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Operand<TFloat32> x = tf.withName("input").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, din)));
      Operand<TFloat32> w1v = tf.withName("w1").variable(Shape.of(din, h), TFloat32.class);
      Operand<TFloat32> b1v = tf.withName("b1").variable(Shape.of(h), TFloat32.class);
      Operand<TFloat32> w2v = tf.withName("w2").variable(Shape.of(h, k), TFloat32.class);
      Operand<TFloat32> b2v = tf.withName("b2").variable(Shape.of(k), TFloat32.class);
      Operand<TFloat32> s1 = tf.withName("s1").nn.biasAdd(
          tf.withName("mm1").linalg.matMul(x, w1v), b1v);
      Operand<TFloat32> a1 = tf.withName("act").math.tanh(s1);
      tf.withName("logits").nn.biasAdd(tf.withName("mm2").linalg.matMul(a1, w2v), b2v);
      def = g.toGraphDef();
    }
    Map<String, org.tensorflow.proto.TensorProto> vars = new LinkedHashMap<>();
    vars.put("w1", TensorProtos.ofFloats(new long[] {din, h}, w1));
    vars.put("b1", TensorProtos.ofFloats(new long[] {h}, b1));
    vars.put("w2", TensorProtos.ofFloats(new long[] {h, k}, w2));
    vars.put("b2", TensorProtos.ofFloats(new long[] {k}, b2));
    return new Model(def, vars, List.of(signature(new long[] {-1, din}, k)));
  }

  /** logits = (x W + b) * s: a dense layer followed by a per-class scale variable s [k]. */
  static Model scaledDense(int din, int k, float[] w, float[] b, float[] scale) {
    GraphDef def;
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Operand<TFloat32> x = tf.withName("input").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, din)));
      Operand<TFloat32> wv = tf.withName("w").variable(Shape.of(din, k), TFloat32.class);
      Operand<TFloat32> bv = tf.withName("b").variable(Shape.of(k), TFloat32.class);
      Operand<TFloat32> sv = tf.withName("s").variable(Shape.of(k), TFloat32.class);
      tf.withName("logits").math.mul(
          tf.withName("ba").nn.biasAdd(tf.withName("mm").linalg.matMul(x, wv), bv), sv);
      def = g.toGraphDef();
    }
    Map<String, org.tensorflow.proto.TensorProto> vars = new LinkedHashMap<>();
    vars.put("w", TensorProtos.ofFloats(new long[] {din, k}, w));
    vars.put("b", TensorProtos.ofFloats(new long[] {k}, b));
    vars.put("s", TensorProtos.ofFloats(new long[] {k}, scale));
    return new Model(def, vars, List.of(signature(new long[] {-1, din}, k)));
  }

  /** A conv layer's geometry (NHWC input, HWIO kernel). */
  record ConvGeom(int h, int w, int c, int kh, int kw, int cout, int sh, int sw,
      String padding) {
    int outH() {
      return padding.equals("SAME") ? (h + sh - 1) / sh : (h - kh) / sh + 1;
    }

    int outW() {
      return padding.equals("SAME") ? (w + sw - 1) / sw : (w - kw) / sw + 1;
    }

    int padTop() {
      return padding.equals("SAME") ? Math.max((outH() - 1) * sh + kh - h, 0) / 2 : 0;
    }

    int padLeft() {
      return padding.equals("SAME") ? Math.max((outW() - 1) * sw + kw - w, 0) / 2 : 0;
    }

    int locations() {
      return outH() * outW();
    }

    int patchDim() {
      return kh * kw * c;
    }
  }

  /**
   * logits = reshape(conv(x, K) + bc, [-1, T cout]) Wr + br: a conv layer whose output reaches
   * the logits through a linear read-out (a second, dense layer).
   */
  static Model convReadout(ConvGeom q, int k, float[] kernel, float[] bc, float[] wr,
      float[] br) {
    int flat = q.locations() * q.cout();
    GraphDef def;
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Operand<TFloat32> x = tf.withName("input").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, q.h(), q.w(), q.c())));
      Operand<TFloat32> kv = tf.withName("kernel").variable(
          Shape.of(q.kh(), q.kw(), q.c(), q.cout()), TFloat32.class);
      Operand<TFloat32> bcv = tf.withName("bc").variable(Shape.of(q.cout()), TFloat32.class);
      Operand<TFloat32> wrv = tf.withName("wr").variable(Shape.of(flat, k), TFloat32.class);
      Operand<TFloat32> brv = tf.withName("br").variable(Shape.of(k), TFloat32.class);
      Operand<TFloat32> s = tf.withName("sc").nn.biasAdd(tf.withName("conv").nn.conv2d(x, kv,
          List.of(1L, (long) q.sh(), (long) q.sw(), 1L), q.padding()), bcv);
      Operand<TFloat32> f = tf.withName("flat").reshape(s, tf.constant(new long[] {-1, flat}));
      tf.withName("logits").nn.biasAdd(tf.withName("mm").linalg.matMul(f, wrv), brv);
      def = g.toGraphDef();
    }
    Map<String, org.tensorflow.proto.TensorProto> vars = new LinkedHashMap<>();
    vars.put("kernel", TensorProtos.ofFloats(new long[] {q.kh(), q.kw(), q.c(), q.cout()},
        kernel));
    vars.put("bc", TensorProtos.ofFloats(new long[] {q.cout()}, bc));
    vars.put("wr", TensorProtos.ofFloats(new long[] {flat, k}, wr));
    vars.put("br", TensorProtos.ofFloats(new long[] {k}, br));
    return new Model(def, vars, List.of(signature(new long[] {-1, q.h(), q.w(), q.c()}, k)));
  }

  /**
   * logits = reshape(conv(x, K) + bc, [-1, cout]) for a VALID conv whose kernel covers the whole
   * input (T = 1).
   */
  static Model convOnly(ConvGeom q, float[] kernel, float[] bc) {
    GraphDef def;
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Operand<TFloat32> x = tf.withName("input").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, q.h(), q.w(), q.c())));
      Operand<TFloat32> kv = tf.withName("kernel").variable(
          Shape.of(q.kh(), q.kw(), q.c(), q.cout()), TFloat32.class);
      Operand<TFloat32> bcv = tf.withName("bc").variable(Shape.of(q.cout()), TFloat32.class);
      Operand<TFloat32> s = tf.withName("sc").nn.biasAdd(tf.withName("conv").nn.conv2d(x, kv,
          List.of(1L, (long) q.sh(), (long) q.sw(), 1L), q.padding()), bcv);
      tf.withName("logits").reshape(s, tf.constant(new long[] {-1, q.cout()}));
      def = g.toGraphDef();
    }
    Map<String, org.tensorflow.proto.TensorProto> vars = new LinkedHashMap<>();
    vars.put("kernel", TensorProtos.ofFloats(new long[] {q.kh(), q.kw(), q.c(), q.cout()},
        kernel));
    vars.put("bc", TensorProtos.ofFloats(new long[] {q.cout()}, bc));
    return new Model(def, vars, List.of(signature(new long[] {-1, q.h(), q.w(), q.c()},
        q.cout())));
  }

  static Signature signature(long[] inShape, int k) {
    return new Signature(Signature.SERVING_DEFAULT, Signature.PREDICT_METHOD,
        Map.of("input", new TensorSpec(TensorName.of("input"), DataType.DT_FLOAT, inShape)),
        Map.of("logits", new TensorSpec(TensorName.of("logits"), DataType.DT_FLOAT,
            new long[] {-1, k})));
  }

  // ---------------------------------------------------------------- data

  /** Gaussian values times {@code scale}. */
  static float[] gaussian(int count, long seed, double scale) {
    Random r = new Random(seed);
    float[] v = new float[count];
    for (int i = 0; i < count; i++) {
      v[i] = (float) (scale * r.nextGaussian());
    }
    return v;
  }

  /** One-hot labels of random classes. */
  static float[] labels(int n, int k, long seed) {
    Random r = new Random(seed);
    float[] y = new float[n * k];
    for (int i = 0; i < n; i++) {
      y[i * k + r.nextInt(k)] = 1f;
    }
    return y;
  }

  /** Rows {@code from .. to-1} of a row-major [n, d] array. */
  static float[] rows(float[] x, int d, int from, int to) {
    float[] out = new float[(to - from) * d];
    System.arraycopy(x, from * d, out, 0, out.length);
    return out;
  }

  // ---------------------------------------------------------------- session helpers

  static final String KFAC = "train/kfac/";

  static TFloat32 tensor(float[] v, long... shape) {
    return TFloat32.tensorOf(Shape.of(shape), DataBuffers.of(v, true, false));
  }

  /** Runs the statistics target on a batch with decay {@code rho} and seed {@code [s0, s1]}. */
  static void statistics(TrainingGraph tg, float[] x, long[] xShape, float[] y, double rho,
      long s0, long s1) {
    try (TFloat32 xt = tensor(x, xShape);
        TFloat32 yt = tensor(y, y.length / tg.classes(), tg.classes());
        TFloat32 r = TFloat32.scalarOf((float) rho);
        TInt64 seed = TInt64.vectorOf(s0, s1)) {
      tg.session().runner().feed("input", xt).feed(tg.labelsName(), yt)
          .feed(KFAC + "rho", r).feed(KFAC + "seed", seed)
          .addTarget(KFAC + "update_statistics").run().close();
    }
  }

  /** Runs the inverse target with damping {@code lambda}. */
  static void inverses(TrainingGraph tg, double lambda) {
    try (TFloat32 d = TFloat32.scalarOf((float) lambda)) {
      tg.session().runner().feed(KFAC + "damping", d).addTarget(KFAC + "update_inverses").run()
          .close();
    }
  }

  /** The value of a graph tensor/variable (no feeds), as doubles. */
  static double[] read(Session s, String name) {
    try (Result r = s.runner().fetch(name).run()) {
      Tensor t = r.get(0);
      float[] f = TensorProtos.floats(TensorProtos.fromTensor(t));
      double[] out = new double[f.length];
      for (int i = 0; i < f.length; i++) {
        out[i] = f[i];
      }
      return out;
    }
  }

  /** The averaged factor {@code <which>_acc / weight} of block {@code b} ("a" or "g"). */
  static double[][] factor(TrainingGraph tg, int b, String which) {
    double[] acc = read(tg.session(), KFAC + "block" + b + "/" + which + "_acc");
    double w = read(tg.session(), KFAC + "block" + b + "/weight")[0];
    int d = (int) Math.round(Math.sqrt(acc.length));
    double[][] m = new double[d][d];
    for (int i = 0; i < d; i++) {
      for (int j = 0; j < d; j++) {
        m[i][j] = acc[i * d + j] / w;
      }
    }
    return m;
  }

  /** A square matrix variable of block {@code b}. */
  static double[][] square(TrainingGraph tg, String name) {
    double[] v = read(tg.session(), KFAC + name);
    int d = (int) Math.round(Math.sqrt(v.length));
    double[][] m = new double[d][d];
    for (int i = 0; i < d; i++) {
      System.arraycopy(v, i * d, m[i], 0, d);
    }
    return m;
  }

  /** The current value of a model variable as doubles. */
  static double[] variable(TrainingGraph tg, String name) {
    return read(tg.session(), name);
  }

  /** The error of a mean over {@code count} draws numbered from {@code first}. */
  interface MeanError {
    double of(int count, long first);
  }

  /**
   * {@code {rms error of 8 means of 16 draws, error of one mean of 1024 draws}} (all draws
   * distinct, numbered from {@code first}): an unbiased estimator's ratio is about 8.
   */
  static double[] smallAndLargeSampleErrors(MeanError meanError, long first) {
    long next = first;
    double sq = 0;
    int groups = 8;
    for (int g = 0; g < groups; g++) {
      double e = meanError.of(16, next);
      next += 16;
      sq += e * e;
    }
    return new double[] {Math.sqrt(sq / groups), meanError.of(1024, next)};
  }

  // ---------------------------------------------------------------- reference arithmetic

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

  /** {@code diag(p) - p p^T}. */
  static double[][] outputFisher(double[] p) {
    int k = p.length;
    double[][] f = new double[k][k];
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < k; j++) {
        f[i][j] = (i == j ? p[i] : 0) - p[i] * p[j];
      }
    }
    return f;
  }

  /** {@code a [n, m] x b [m, k]} for row-major double arrays given as [rows][cols]. */
  static double[][] matmul(double[][] a, double[][] b) {
    double[][] c = new double[a.length][b[0].length];
    for (int i = 0; i < a.length; i++) {
      for (int l = 0; l < b.length; l++) {
        double v = a[i][l];
        for (int j = 0; j < b[0].length; j++) {
          c[i][j] += v * b[l][j];
        }
      }
    }
    return c;
  }

  static double[][] transpose(double[][] a) {
    double[][] t = new double[a[0].length][a.length];
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < a[0].length; j++) {
        t[j][i] = a[i][j];
      }
    }
    return t;
  }

  /** {@code A (x) G} with index {@code (r, c) -> r * dG + c} (row-major [W; b] layout). */
  static double[][] kron(double[][] a, double[][] g) {
    int da = a.length;
    int dg = g.length;
    double[][] k = new double[da * dg][da * dg];
    for (int r = 0; r < da; r++) {
      for (int c = 0; c < dg; c++) {
        for (int r2 = 0; r2 < da; r2++) {
          for (int c2 = 0; c2 < dg; c2++) {
            k[r * dg + c][r2 * dg + c2] = a[r][r2] * g[c][c2];
          }
        }
      }
    }
    return k;
  }

  /** Inverse by Gauss-Jordan elimination with partial pivoting. */
  static double[][] inverse(double[][] m) {
    int n = m.length;
    double[][] a = new double[n][2 * n];
    for (int i = 0; i < n; i++) {
      System.arraycopy(m[i], 0, a[i], 0, n);
      a[i][n + i] = 1;
    }
    for (int col = 0; col < n; col++) {
      int piv = col;
      for (int r = col + 1; r < n; r++) {
        if (Math.abs(a[r][col]) > Math.abs(a[piv][col])) {
          piv = r;
        }
      }
      double[] t = a[col];
      a[col] = a[piv];
      a[piv] = t;
      double d = a[col][col];
      for (int j = 0; j < 2 * n; j++) {
        a[col][j] /= d;
      }
      for (int r = 0; r < n; r++) {
        if (r != col && a[r][col] != 0) {
          double f = a[r][col];
          for (int j = 0; j < 2 * n; j++) {
            a[r][j] -= f * a[col][j];
          }
        }
      }
    }
    double[][] inv = new double[n][n];
    for (int i = 0; i < n; i++) {
      System.arraycopy(a[i], n, inv[i], 0, n);
    }
    return inv;
  }

  /** {@code M^-1 v}. */
  static double[] solve(double[][] m, double[] v) {
    double[][] inv = inverse(m);
    double[] out = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      for (int j = 0; j < v.length; j++) {
        out[i] += inv[i][j] * v[j];
      }
    }
    return out;
  }

  static double[][] plusDiagonal(double[][] m, double d) {
    double[][] out = new double[m.length][];
    for (int i = 0; i < m.length; i++) {
      out[i] = m[i].clone();
      out[i][i] += d;
    }
    return out;
  }

  static double trace(double[][] m) {
    double t = 0;
    for (int i = 0; i < m.length; i++) {
      t += m[i][i];
    }
    return t;
  }

  /** max |a - b| / max(max |b|, floor). */
  static double relErr(double[][] a, double[][] b) {
    double num = 0;
    double den = 0;
    for (int i = 0; i < b.length; i++) {
      for (int j = 0; j < b[i].length; j++) {
        num = Math.max(num, Math.abs(a[i][j] - b[i][j]));
        den = Math.max(den, Math.abs(b[i][j]));
      }
    }
    return num / Math.max(den, 1e-30);
  }

  static double relErr(double[] a, double[] b) {
    return relErr(new double[][] {a}, new double[][] {b});
  }

  /** Frobenius norm of {@code a - b}. */
  static double frob(double[][] a, double[][] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < a[i].length; j++) {
        s += (a[i][j] - b[i][j]) * (a[i][j] - b[i][j]);
      }
    }
    return Math.sqrt(s);
  }

  /**
   * The padded patches of example {@code i} in TF's convention (row-major over output locations,
   * depth in (row, column, channel) order, zeros where padded), each with a trailing 1:
   * {@code [T][kh kw c + 1]}.
   */
  static double[][] patches(ConvGeom q, float[] x, int i) {
    double[][] out = new double[q.locations()][q.patchDim() + 1];
    int t = 0;
    for (int oh = 0; oh < q.outH(); oh++) {
      for (int ow = 0; ow < q.outW(); ow++) {
        int col = 0;
        for (int dy = 0; dy < q.kh(); dy++) {
          for (int dx = 0; dx < q.kw(); dx++) {
            for (int ch = 0; ch < q.c(); ch++) {
              int yy = oh * q.sh() - q.padTop() + dy;
              int xx = ow * q.sw() - q.padLeft() + dx;
              boolean inside = yy >= 0 && yy < q.h() && xx >= 0 && xx < q.w();
              out[t][col++] = inside
                  ? x[((i * q.h() + yy) * q.w() + xx) * q.c() + ch] : 0;
            }
          }
        }
        out[t][col] = 1;
        t++;
      }
    }
    return out;
  }

  static double[] toDouble(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  /** The conv output of example {@code i} by direct summation: {@code [T][cout]}. */
  static double[][] conv(ConvGeom q, float[] x, int i, float[] kernel, float[] bc) {
    double[][] out = new double[q.locations()][q.cout()];
    int t = 0;
    for (int oh = 0; oh < q.outH(); oh++) {
      for (int ow = 0; ow < q.outW(); ow++) {
        for (int co = 0; co < q.cout(); co++) {
          double s = bc[co];
          for (int dy = 0; dy < q.kh(); dy++) {
            for (int dx = 0; dx < q.kw(); dx++) {
              int yy = oh * q.sh() - q.padTop() + dy;
              int xx = ow * q.sw() - q.padLeft() + dx;
              if (yy < 0 || yy >= q.h() || xx < 0 || xx >= q.w()) {
                continue;
              }
              for (int ch = 0; ch < q.c(); ch++) {
                s += x[((i * q.h() + yy) * q.w() + xx) * q.c() + ch]
                    * kernel[((dy * q.kw() + dx) * q.c() + ch) * q.cout() + co];
              }
            }
          }
          out[t][co] = s;
        }
        t++;
      }
    }
    return out;
  }

  /** Jacobian {@code [out][in]} of {@code f} at {@code theta} by central differences. */
  static double[][] jacobian(java.util.function.Function<double[], double[]> f, double[] theta,
      double h) {
    int n = theta.length;
    double[][] jt = new double[n][];
    for (int j = 0; j < n; j++) {
      double[] tp = theta.clone();
      double[] tm = theta.clone();
      tp[j] += h;
      tm[j] -= h;
      double[] fp = f.apply(tp);
      double[] fm = f.apply(tm);
      jt[j] = new double[fp.length];
      for (int i = 0; i < fp.length; i++) {
        jt[j][i] = (fp[i] - fm[i]) / (2 * h);
      }
    }
    return transpose(jt);
  }

  /** {@code [W; b]} stacked row-major: the W values then the b values. */
  static double[] stack(double[] w, double[] b) {
    double[] out = new double[w.length + b.length];
    System.arraycopy(w, 0, out, 0, w.length);
    System.arraycopy(b, 0, out, w.length, b.length);
    return out;
  }

  /** Logits of the tanh MLP of {@link #mlp} for one example, in double precision. */
  static double[] mlpLogits(double[] x, int h, int k, double[] w1, double[] b1, double[] w2,
      double[] b2) {
    int din = x.length;
    double[] a = new double[h];
    for (int j = 0; j < h; j++) {
      double s = b1[j];
      for (int i = 0; i < din; i++) {
        s += x[i] * w1[i * h + j];
      }
      a[j] = Math.tanh(s);
    }
    double[] z = new double[k];
    for (int c = 0; c < k; c++) {
      z[c] = b2[c];
      for (int j = 0; j < h; j++) {
        z[c] += a[j] * w2[j * k + c];
      }
    }
    return z;
  }

  /** Logits of the dense model of {@link #dense} for one example, in double precision. */
  static double[] denseLogits(double[] x, int k, double[] w, double[] b) {
    double[] z = new double[k];
    for (int c = 0; c < k; c++) {
      z[c] = b[c];
      for (int i = 0; i < x.length; i++) {
        z[c] += x[i] * w[i * k + c];
      }
    }
    return z;
  }

  /** {@code J^T F_z J}. */
  static double[][] fisher(double[][] j, double[] p) {
    return matmul(transpose(j), matmul(outputFisher(p), j));
  }
}
