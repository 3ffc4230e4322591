package dev.dks.rewriter.passes.dks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.DksRewrite;
import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.kernel.KernelEntry;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.TensorProtos;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

/**
 * faceboxes' input: {@code x/255}, read also by Shape ops (its anchors and the pad sizes), padded
 * with zeros at the bottom and right, then {@code 2x - 1}: the preprocessing goes on past the
 * pad, whose border becomes -1. Per-location normalization goes after {@code 2x - 1}, where the
 * first layer reads (before, it went at {@code x/255} and the first layer read {@code 2 pln(x) -
 * 1}: q about 5, c {@code (4c + 1)/5}), and the check feeds there, past the pad. Brute force on
 * two pixel images: the first layer's input at an image location is PLN of {@code [2x/255 - 1,
 * 1]} (q 1, its c computed in Java), and at a border location the finite {@code [-1, -1, -1,
 * 1]}. Controls: the old placement's q at the first layer, computed in Java on the same images,
 * is far from 1; a pad with a zero border at the chain's end stays after the normalization (PLN
 * of an all-zero location would divide 0 by 0).
 */
class PlnAfterPadTest {
  private static TensorProto ints(long[] shape, int... v) {
    TensorProto.Builder b = TensorProto.newBuilder().setDtype(DataType.DT_INT32)
        .setTensorShape(TensorProtos.shapeProto(shape));
    for (int x : v) {
      b.addIntVal(x);
    }
    return b.build();
  }

  /** input 6x5x3 -> x/255 (also read by a Shape) -> pad 2 rows and cols -> [2x - 1] -> CNN. */
  private static Model net(boolean affineAfterPad) {
    Model m = ModelBuilder.build(ArchitectureSpec.builder(Architecture.PLAIN_CNN, 3).width(8)
        .input("6x5x3").build()).model();
    GraphView g = GraphView.of(m.graph());
    List<String> readers = g.dataConsumers(TensorName.of("input"));
    g.add(Nodes.floatScalar("pre/scale/y", 1f / 255));
    g.add(Nodes.op("Mul", "pre/scale").input("input").input("pre/scale/y")
        .type("T", DataType.DT_FLOAT).build());
    g.add(Nodes.op("Shape", "pre/shape").input("pre/scale").type("T", DataType.DT_FLOAT)
        .type("out_type", DataType.DT_INT32).build());
    g.add(Nodes.constant("pre/pad/paddings", ints(new long[] {4, 2}, 0, 0, 0, 2, 0, 2, 0, 0)));
    g.add(Nodes.op("Pad", "pre/pad").input("pre/scale").input("pre/pad/paddings")
        .type("T", DataType.DT_FLOAT).type("Tpaddings", DataType.DT_INT32).build());
    String last = "pre/pad";
    if (affineAfterPad) {
      g.add(Nodes.floatScalar("pre/two", 2f));
      g.add(Nodes.op("Mul", "pre/mul").input("pre/two").input("pre/pad")
          .type("T", DataType.DT_FLOAT).build());
      g.add(Nodes.floatScalar("pre/one", 1f));
      g.add(Nodes.op("Sub", "pre/sub").input("pre/mul").input("pre/one")
          .type("T", DataType.DT_FLOAT).build());
      last = "pre/sub";
    }
    for (String r : readers) {
      g.put(g.get(r).toBuilder().setInput(0, last).build());
    }
    return m.with(g.toGraphDef(), m.variables());
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

  @Test
  void plnGoesAfterTheAffinePastThePadAndTheCheckFeedsThere() {
    Model r = DksRewrite.pipeline(RewriteOptions.defaults()).build().run(net(true)).model();
    GraphView g = GraphView.of(r.graph());
    assertTrue(g.contains("pre/sub/pln/normalized") && !g.contains("pre/scale/pln/normalized"));
    KernelEntry e = KernelEntry.of(r);
    assertEquals("pre/sub", e.node());
    assertArrayEquals(new long[] {-1, 8, 7, 3}, e.shape(), "the pad's sizes added");
    assertTrue(e.note().contains("pad"), e.note());

    SplittableRandom rng = new SplittableRandom(4);
    float[] img = new float[2 * 6 * 5 * 3];
    for (int i = 0; i < img.length; i++) {
      img[i] = (float) Math.floor(256 * rng.nextDouble());
    }
    float[] v;
    try (ModelSession s = new ModelSession(r)) {
      v = TensorProtos.floats(s.run(Map.of("input", TensorProtos.ofFloats(
          new long[] {2, 6, 5, 3}, img)), List.of("pre/sub/pln/normalized"))
          .get("pre/sub/pln/normalized"));
    }
    int f = v.length / (2 * 8 * 7); // 3 channels and the homogeneous coordinate
    assertEquals(4, f);
    double[][] at = new double[2][f];
    double[][] want = new double[2][f];
    for (int n = 0; n < 2; n++) {
      for (int ch = 0; ch < 3; ch++) {
        double x = img[n * 90 + ch]; // location (0, 0)
        want[n][ch] = 2 * x / 255.0 - 1;
      }
      want[n][3] = 1;
      double q = 0;
      for (int j = 0; j < f; j++) {
        at[n][j] = v[n * 8 * 7 * f + j];
        q += at[n][j] * at[n][j] / f;
      }
      assertEquals(1.0, q, 1e-5, "q at an image location");
      // a border location (row 7, column 6): [-1, -1, -1, 1], finite
      int border = n * 8 * 7 * f + (7 * 7 + 6) * f;
      assertArrayEquals(new float[] {-1, -1, -1, 1},
          java.util.Arrays.copyOfRange(v, border, border + f), 1e-6f);
    }
    assertEquals(cosine(want[0], want[1]), cosine(at[0], at[1]), 1e-5);
    // control: with PLN at x/255 (before), the check's pairs (unit q, mean 0, c 0) reached the
    // first layer as 2u - 1: q 5 and c 0.2 (faceboxes measured q 5.05 there)
    double[] u = {Math.sqrt(1.5), -Math.sqrt(1.5), 0};
    double[] w = {1 / Math.sqrt(2), 1 / Math.sqrt(2), -2 / Math.sqrt(2)};
    double[] u2 = new double[3];
    double[] w2 = new double[3];
    double qOld = 0;
    for (int ch = 0; ch < 3; ch++) {
      u2[ch] = 2 * u[ch] - 1;
      w2[ch] = 2 * w[ch] - 1;
      qOld += u2[ch] * u2[ch] / 3;
    }
    assertEquals(0.0, cosine(u, w), 1e-12);
    assertEquals(5.0, qOld, 1e-12);
    assertEquals(0.2, cosine(u2, w2), 1e-12);
  }

  @Test
  void aZeroBorderAtTheChainsEndKeepsTheNormalizationBeforeThePad() {
    Model r = DksRewrite.pipeline(RewriteOptions.defaults()).build().run(net(false)).model();
    GraphView g = GraphView.of(r.graph());
    assertTrue(g.contains("pre/scale/pln/normalized") && !g.contains("pre/pad/pln/normalized"));
    assertEquals("pre/scale", KernelEntry.of(r).node());
  }
}
