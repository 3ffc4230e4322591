package dev.dks.rewriter.passes.dks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.DksRewrite;
import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.kernel.KernelEntry;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.testing.DenseNets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

/**
 * Per-location normalization goes after the model's own constant elementwise preprocessing
 * (mobileface: {@code (x - 127.5) * (1/128)}), where the network starts: the first layer reads
 * PLN of the preprocessed input (with its homogeneous coordinate, since a layer reads it), and
 * the kernel check feeds its pairs there. Checked against PLN computed by hand in Java on two
 * pixel images: their c at the first layer is that of {@code [(x - 127.5)/128, 1]}; with PLN at
 * the raw input (before), unit-q vectors (what the check fed) came out of the preprocessing at c
 * above 0.99.
 * Control: a Sub of a value computed from the input (x - mean(x)) is not constant preprocessing,
 * so PLN stays at the input.
 */
class PlnAfterPreprocessingTest {
  private static final int W = 16;

  private static Model net(boolean constant) {
    DenseNets n = new DenseNets(W);
    if (constant) {
      n.g.add(Nodes.floatScalar("pre/mean", 127.5f));
    } else {
      n.g.add(Nodes.constant("pre/axis", TensorProto.newBuilder().setDtype(DataType.DT_INT32)
          .setTensorShape(TensorProtos.shapeProto(new long[] {1})).addIntVal(-1).build()));
      n.g.add(Nodes.op("Mean", "pre/mean").input("input").input("pre/axis")
          .type("T", DataType.DT_FLOAT).type("Tidx", DataType.DT_INT32).attr("keep_dims",
              org.tensorflow.proto.AttrValue.newBuilder().setB(true).build()).build());
    }
    n.g.add(Nodes.floatScalar("pre/scale", 1f / 128));
    n.g.add(Nodes.op("Sub", "pre/sub").input("input").input("pre/mean")
        .type("T", DataType.DT_FLOAT).build());
    n.g.add(Nodes.op("Mul", "pre/mul").input("pre/sub").input("pre/scale")
        .type("T", DataType.DT_FLOAT).build());
    return n.model(n.dense(n.act("relu", n.dense(TensorName.of("pre/mul")))));
  }

  /** Two images of pixels in [0, 255], correlated after centring. */
  private static float[][] images() {
    java.util.Random r = new java.util.Random(3);
    float[][] x = new float[2][W];
    for (int i = 0; i < W; i++) {
      double common = r.nextGaussian();
      x[0][i] = (float) Math.max(0, Math.min(255, 127.5 + 60 * common));
      x[1][i] = (float) Math.max(0, Math.min(255, 127.5 + 60 * (0.3 * common
          + Math.sqrt(0.91) * r.nextGaussian())));
    }
    return x;
  }

  private static double cosine(double[] a, double[] b) {
    double ab = 0;
    double aa = 0;
    double bb = 0;
    for (int i = 0; i < a.length; i++) {
      ab += a[i] * b[i];
      aa += a[i] * a[i];
      bb += b[i] * b[i];
    }
    return ab / Math.sqrt(aa * bb);
  }

  /** [f(x_i)..., 1]: the vector PLN normalizes (its scale does not change c). */
  private static double[] withOne(float[] x, boolean preprocess) {
    double[] v = new double[x.length + 1];
    for (int i = 0; i < x.length; i++) {
      v[i] = preprocess ? (x[i] - 127.5) / 128 : x[i];
    }
    v[x.length] = 1;
    return v;
  }

  private static float[] unitQ(float[] x) {
    double q = 0;
    for (float v : x) {
      q += (double) v * v / x.length;
    }
    float[] out = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = (float) (x[i] / Math.sqrt(q));
    }
    return out;
  }

  private static double[] preprocessed(float[] x) {
    double[] v = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      v[i] = (x[i] - 127.5) / 128;
    }
    return v;
  }

  @Test
  void plnReadsThePreprocessedInputAndTheCheckFeedsThere() {
    Model r = DksRewrite.pipeline(RewriteOptions.defaults()).build().run(net(true)).model();
    GraphView g = GraphView.of(r.graph());
    assertTrue(g.contains("pre/mul/pln/normalized"), "PLN after the preprocessing");
    assertEquals("pre/mul/pln/normalized", g.get("dense1/MatMul").getInput(0));
    assertEquals("pre/mul", KernelEntry.of(r).node());
    assertTrue(KernelEntry.of(r).note().contains("preprocessing"), KernelEntry.of(r).note());

    float[][] x = images();
    float[] both = new float[2 * W];
    System.arraycopy(x[0], 0, both, 0, W);
    System.arraycopy(x[1], 0, both, W, W);
    float[] v;
    try (ModelSession s = new ModelSession(r)) {
      TensorProto in = TensorProtos.ofFloats(new long[] {2, W}, both);
      v = TensorProtos.floats(s.run(Map.of("input", in), List.of("pre/mul/pln/normalized"))
          .get("pre/mul/pln/normalized"));
    }
    double[] a = new double[W + 1];
    double[] b = new double[W + 1];
    for (int i = 0; i <= W; i++) {
      a[i] = v[i];
      b[i] = v[W + 1 + i];
    }
    double want = cosine(withOne(x[0], true), withOne(x[1], true));
    assertEquals(want, cosine(a, b), 1e-5);
    // before: PLN at the raw input, then (x - 127.5) / 128 of unit-q vectors: about collinear
    double before = cosine(preprocessed(unitQ(x[0])), preprocessed(unitQ(x[1])));
    assertTrue(want < 0.8 && before > 0.99, want + " vs PLN at the raw input " + before);
  }

  @Test
  void aSubOfAValueComputedFromTheInputIsNoPreprocessing() {
    Model r = DksRewrite.pipeline(RewriteOptions.defaults()).build().run(net(false)).model();
    GraphView g = GraphView.of(r.graph());
    assertTrue(g.contains("input/pln/normalized") && !g.contains("pre/mul/pln/normalized"));
    assertEquals("input", KernelEntry.of(r).node());
  }
}
