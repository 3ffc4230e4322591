package dev.dks.trainers.device;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.BiFunction;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.nn.Conv2d;
import org.tensorflow.op.nn.DepthwiseConv2dNative;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.family.TNumber;

/**
 * Diagnostic main (not a test): for each op the trainers use, the forward output and the gradient
 * of {@code sum(out * R)} (fixed random R) with respect to every input, computed in float32 (the
 * kernels the process environment selects: oneDNN at some ISA, or TF's Eigen kernels) and in
 * float64 (always Eigen: oneDNN has no float64 kernels) from the same float32-representable
 * inputs. Prints one line per output: the max abs difference relative to the float64 output's max
 * abs value. float32 rounding gives about 1e-6; a wrong kernel gives 1e-2 and more. Run it once
 * per environment (TF reads TF_ENABLE_ONEDNN_OPTS and ONEDNN_MAX_CPU_ISA at load).
 *
 * <p>Arguments: parts of case names; only the cases whose name contains one of them run (all
 * without arguments). Single-op cases fetch the op's output (no fusion); "chain" cases fetch only
 * the chain's end and the gradients, so grappler's remapper and oneDNN's layout pass may fuse. The
 * last line names the op TF ran for a float32 Conv2D ({@link #convKernel}). BENCHMARKS.md,
 * "oneDNN", has the results.
 */
public final class OneDnnOpProbe {
  private OneDnnOpProbe() {}

  /** An op under test, built generically over the float type from its inputs. */
  interface Case extends BiFunction<Ops, List<Operand<TNumber>>, Operand<TNumber>> {}

  record Spec(String name, long[][] inputShapes, Case op) {}

  public static void main(String[] args) {
    List<Spec> specs = specs();
    List<String> only = List.of(args);
    double worst = 0;
    String worstName = "";
    for (Spec s : specs) {
      if (!only.isEmpty() && only.stream().noneMatch(s.name()::contains)) {
        continue;
      }
      double[][] in = inputs(s.inputShapes(), s.name().hashCode());
      double[][] r32 = run(s, in, TFloat32.class);
      double[][] r64 = run(s, in, TFloat64.class);
      StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-34s", s.name()));
      for (int k = 0; k < r32.length; k++) {
        double e = relErr(r32[k], r64[k]);
        line.append(String.format(Locale.ROOT, " %s=%.2e", k == 0 ? "out" : "d" + (k - 1), e));
        if (e > worst) {
          worst = e;
          worstName = s.name() + (k == 0 ? " out" : " d" + (k - 1));
        }
      }
      System.out.println(line);
    }
    System.out.printf(Locale.ROOT, "worst %.2e at %s (TF_ENABLE_ONEDNN_OPTS=%s "
        + "ONEDNN_MAX_CPU_ISA=%s)%n", worst, worstName, System.getenv("TF_ENABLE_ONEDNN_OPTS"),
        System.getenv("ONEDNN_MAX_CPU_ISA"));
    System.out.println("conv2d kernel " + convKernel());
  }

  /**
   * The op type TF runs for a float32 Conv2D in this process: {@code Conv2D} (TF's own kernel) or
   * a {@code _Mkl...} op (oneDNN's layout pass rewrote it), read from the executed partition
   * graph.
   */
  static String convKernel() {
    try (Graph g = new Graph(); Session sess = new Session(g)) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(1, 4, 4, 2)));
      Operand<TFloat32> w = tf.constant(Shape.of(3, 3, 2, 2), DataBuffers.ofFloats(36));
      Operand<TFloat32> y = tf.withName("probe_conv").nn.conv2d(x, w,
          List.of(1L, 1L, 1L, 1L), "SAME");
      org.tensorflow.proto.RunOptions opts = org.tensorflow.proto.RunOptions.newBuilder()
          .setOutputPartitionGraphs(true).build();
      try (TFloat32 xt = TFloat32.tensorOf(Shape.of(1, 4, 4, 2));
          Result r = sess.runner().feed(x, xt).fetch(y).setOptions(opts).runAndFetchMetadata()) {
        for (org.tensorflow.proto.GraphDef pg : r.getMetadata().orElseThrow()
            .getPartitionGraphsList()) {
          for (org.tensorflow.proto.NodeDef n : pg.getNodeList()) {
            if (n.getName().startsWith("probe_conv")) {
              return n.getOp();
            }
          }
        }
      }
      return "none";
    }
  }

  static double relErr(double[] a, double[] ref) {
    double m = 0;
    double d = 0;
    for (int i = 0; i < ref.length; i++) {
      m = Math.max(m, Math.abs(ref[i]));
      d = Math.max(d, Math.abs(a[i] - ref[i]));
    }
    if (a.length != ref.length) {
      return Double.POSITIVE_INFINITY;
    }
    return m == 0 ? d : d / m;
  }

  static double[][] inputs(long[][] shapes, long seed) {
    Random r = new Random(seed);
    double[][] out = new double[shapes.length + 1][];
    for (int i = 0; i < shapes.length; i++) {
      out[i] = new double[(int) Shape.of(shapes[i]).size()];
      for (int j = 0; j < out[i].length; j++) {
        out[i][j] = (float) r.nextGaussian();
      }
    }
    out[shapes.length] = new double[1 << 20]; // R, cut to the output's size
    for (int j = 0; j < out[shapes.length].length; j++) {
      out[shapes.length][j] = (float) r.nextGaussian();
    }
    return out;
  }

  /** [output, d input 0, d input 1, ...] as doubles, for one float type. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  static double[][] run(Spec s, double[][] in, Class<? extends TNumber> type) {
    try (Graph g = new Graph(); Session sess = new Session(g)) {
      Ops tf = Ops.create(g);
      List<Operand<TNumber>> xs = new ArrayList<>();
      List<Placeholder<TFloat64>> phs = new ArrayList<>();
      for (long[] shape : s.inputShapes()) {
        Placeholder<TFloat64> p =
            tf.placeholder(TFloat64.class, Placeholder.shape(Shape.of(shape)));
        phs.add(p);
        xs.add((Operand) tf.dtypes.cast(p, (Class) type));
      }
      Operand<TNumber> y = s.op().apply(tf, xs);
      Placeholder<TFloat64> rp = tf.placeholder(TFloat64.class);
      Operand<TNumber> rr = (Operand) tf.dtypes.cast(rp, (Class) type);
      Operand<TNumber> loss = (Operand) tf.reduceSum((Operand) tf.math.mul(y, rr),
          tf.range(tf.constant(0), tf.rank(y), tf.constant(1)));
      Output<?>[] grads = g.addGradients(loss.asOutput(),
          xs.stream().map(Operand::asOutput).toArray(Output[]::new));
      List<Operand<TFloat64>> fetch = new ArrayList<>();
      fetch.add(tf.dtypes.cast(y, TFloat64.class));
      for (Output<?> d : grads) {
        fetch.add(tf.dtypes.cast((Operand) d, TFloat64.class));
      }
      // the output's shape, to cut R: run the forward once
      long[] yShape;
      Session.Runner r0 = sess.runner();
      List<TFloat64> fed = new ArrayList<>();
      try {
        for (int i = 0; i < phs.size(); i++) {
          fed.add(TFloat64.tensorOf(Shape.of(s.inputShapes()[i]), DataBuffers.of(in[i], true,
              false)));
          r0.feed(phs.get(i), fed.get(i));
        }
        try (Result res = r0.fetch(y).run()) {
          yShape = res.get(0).shape().asArray();
        }
        double[] rv = java.util.Arrays.copyOf(in[in.length - 1], (int) Shape.of(yShape).size());
        try (TFloat64 rt = TFloat64.tensorOf(Shape.of(yShape), DataBuffers.of(rv, true, false))) {
          Session.Runner runner = sess.runner();
          for (int i = 0; i < phs.size(); i++) {
            runner.feed(phs.get(i), fed.get(i));
          }
          runner.feed(rp, rt);
          fetch.forEach(runner::fetch);
          double[][] out = new double[fetch.size()][];
          try (Result res = runner.run()) {
            for (int k = 0; k < fetch.size(); k++) {
              TFloat64 t = (TFloat64) res.get(k);
              out[k] = new double[(int) t.shape().size()];
              t.copyTo(DataBuffers.of(out[k], false, false));
            }
          }
          return out;
        }
      } finally {
        fed.forEach(TFloat64::close);
      }
    }
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  static Operand<TNumber> conv(Ops tf, Operand<TNumber> x, Operand<TNumber> w, int stride,
      String padding) {
    return (Operand) tf.nn.conv2d((Operand) x, (Operand) w, List.of(1L, (long) stride,
        (long) stride, 1L), padding, Conv2d.dataFormat("NHWC"));
  }

  /** A conv kernel {@code [k, k, in, out]} with its two spatial axes swapped. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  static Operand<TNumber> transposeHw(Ops tf, Operand<TNumber> w) {
    return (Operand) tf.linalg.transpose((Operand) w, tf.constant(new int[] {1, 0, 2, 3}));
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  static Operand<TNumber> un(Ops tf, String op, Operand<TNumber> x) {
    return (Operand) switch (op) {
      case "Relu" -> tf.nn.relu((Operand) x);
      case "LeakyRelu" -> tf.nn.leakyRelu((Operand) x,
          org.tensorflow.op.nn.LeakyRelu.alpha(0.3f));
      case "Softplus" -> tf.math.softplus((Operand) x);
      case "Tanh" -> tf.math.tanh((Operand) x);
      default -> throw new IllegalArgumentException(op);
    };
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  static List<Spec> specs() {
    List<Spec> l = new ArrayList<>();
    long[] x16 = {4, 8, 8, 16};
    long[] w16 = {3, 3, 16, 16};
    l.add(new Spec("Conv2D 3x3 s1 SAME 16->16", new long[][] {x16, w16},
        (tf, in) -> conv(tf, in.get(0), in.get(1), 1, "SAME")));
    l.add(new Spec("Conv2D 3x3 s2 SAME 16->16", new long[][] {x16, w16},
        (tf, in) -> conv(tf, in.get(0), in.get(1), 2, "SAME")));
    l.add(new Spec("Conv2D 3x3 s1 VALID 16->16", new long[][] {x16, w16},
        (tf, in) -> conv(tf, in.get(0), in.get(1), 1, "VALID")));
    l.add(new Spec("Conv2D 3x3 s1 SAME 1->16", new long[][] {{4, 8, 8, 1}, {3, 3, 1, 16}},
        (tf, in) -> conv(tf, in.get(0), in.get(1), 1, "SAME")));
    l.add(new Spec("Conv2D 3x3 s1 SAME 1->16 b128", new long[][] {{128, 8, 8, 1}, {3, 3, 1, 16}},
        (tf, in) -> conv(tf, in.get(0), in.get(1), 1, "SAME")));
    l.add(new Spec("Conv2D 3x3 s1 SAME 16->16 b128", new long[][] {{128, 8, 8, 16}, w16},
        (tf, in) -> conv(tf, in.get(0), in.get(1), 1, "SAME")));
    l.add(new Spec("Conv2D 3x3 s2 SAME 16->16 b128", new long[][] {{128, 8, 8, 16}, w16},
        (tf, in) -> conv(tf, in.get(0), in.get(1), 2, "SAME")));
    l.add(new Spec("Conv2D 3x3 s1 SAME 16->16 b128 4x4", new long[][] {{128, 4, 4, 16}, w16},
        (tf, in) -> conv(tf, in.get(0), in.get(1), 1, "SAME")));
    l.add(new Spec("Conv2D 3x3 s2 SAME 3->8 odd 9x9", new long[][] {{3, 9, 9, 3}, {3, 3, 3, 8}},
        (tf, in) -> conv(tf, in.get(0), in.get(1), 2, "SAME")));
    l.add(new Spec("Conv2D 1x1 s1 SAME 16->32", new long[][] {x16, {1, 1, 16, 32}},
        (tf, in) -> conv(tf, in.get(0), in.get(1), 1, "SAME")));
    l.add(new Spec("Conv2D 5x5 s1 SAME 32->64 16x16", new long[][] {{8, 16, 16, 32},
        {5, 5, 32, 64}}, (tf, in) -> conv(tf, in.get(0), in.get(1), 1, "SAME")));
    l.add(new Spec("DepthwiseConv2dNative 3x3 s1 SAME", new long[][] {x16, {3, 3, 16, 1}},
        (tf, in) -> (Operand) tf.nn.depthwiseConv2dNative((Operand) in.get(0),
            (Operand) in.get(1), List.of(1L, 1L, 1L, 1L), "SAME",
            DepthwiseConv2dNative.dataFormat("NHWC"))));
    l.add(new Spec("DepthwiseConv2dNative 3x3 s2 SAME", new long[][] {x16, {3, 3, 16, 2}},
        (tf, in) -> (Operand) tf.nn.depthwiseConv2dNative((Operand) in.get(0),
            (Operand) in.get(1), List.of(1L, 2L, 2L, 1L), "SAME",
            DepthwiseConv2dNative.dataFormat("NHWC"))));
    l.add(new Spec("MatMul 128x64 64x10", new long[][] {{128, 64}, {64, 10}},
        (tf, in) -> (Operand) tf.linalg.matMul((Operand) in.get(0), (Operand) in.get(1))));
    l.add(new Spec("MatMul 32x16 16x16", new long[][] {{32, 16}, {16, 16}},
        (tf, in) -> (Operand) tf.linalg.matMul((Operand) in.get(0), (Operand) in.get(1))));
    l.add(new Spec("BiasAdd", new long[][] {x16, {16}},
        (tf, in) -> (Operand) tf.nn.biasAdd((Operand) in.get(0), (Operand) in.get(1))));
    for (String a : List.of("Relu", "LeakyRelu", "Softplus", "Tanh")) {
      l.add(new Spec(a, new long[][] {x16}, (tf, in) -> un(tf, a, in.get(0))));
    }
    l.add(new Spec("AvgPool 2x2 s2 SAME", new long[][] {x16},
        (tf, in) -> (Operand) tf.nn.avgPool((Operand) in.get(0), List.of(1L, 2L, 2L, 1L),
            List.of(1L, 2L, 2L, 1L), "SAME")));
    l.add(new Spec("MaxPool 2x2 s2 SAME", new long[][] {x16},
        (tf, in) -> (Operand) tf.nn.maxPool((Operand) in.get(0),
            tf.constant(new int[] {1, 2, 2, 1}), tf.constant(new int[] {1, 2, 2, 1}), "SAME")));
    l.add(new Spec("Mean over H,W", new long[][] {x16},
        (tf, in) -> (Operand) tf.math.mean((Operand) in.get(0), tf.constant(new int[] {1, 2}))));
    // chains: conv -> bias -> activation, which the remapper / oneDNN fuse when only the loss
    // and gradients are fetched (the output fetched is the chain's end only)
    for (String a : List.of("Relu", "LeakyRelu", "Softplus", "Tanh")) {
      for (int stride : new int[] {1, 2}) {
        l.add(new Spec("chain Conv+Bias+" + a + " s" + stride + " b128",
            new long[][] {{128, 8, 8, 16}, w16, {16}},
            (tf, in) -> un(tf, a, (Operand) tf.nn.biasAdd((Operand) conv(tf, in.get(0),
                in.get(1), stride, "SAME"), (Operand) in.get(2)))));
      }
    }
    l.add(new Spec("chain 1ch Conv+Bias+LeakyRelu b128", new long[][] {{128, 8, 8, 1},
        {3, 3, 1, 16}, {16}}, (tf, in) -> un(tf, "LeakyRelu", (Operand) tf.nn.biasAdd(
            (Operand) conv(tf, in.get(0), in.get(1), 1, "SAME"), (Operand) in.get(2)))));
    l.add(new Spec("chain 4 convs LeakyRelu + Mean + MatMul", new long[][] {{128, 8, 8, 1},
        {3, 3, 1, 16}, w16, w16, w16, {16, 10}}, (tf, in) -> {
          Operand<TNumber> h = un(tf, "LeakyRelu", conv(tf, in.get(0), in.get(1), 1, "SAME"));
          h = un(tf, "LeakyRelu", conv(tf, h, in.get(2), 1, "SAME"));
          h = un(tf, "LeakyRelu", conv(tf, h, in.get(3), 2, "SAME"));
          h = un(tf, "LeakyRelu", conv(tf, h, in.get(4), 1, "SAME"));
          Operand<TNumber> m = (Operand) tf.math.mean((Operand) h, tf.constant(new int[] {1, 2}));
          return (Operand) tf.linalg.matMul((Operand) m, (Operand) in.get(5));
        }));
    return l;
  }
}
