package dev.dks.rewriter.passes.norm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.DksRewrite;
import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.testing.DenseNets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;

/**
 * Batch norms a converter froze into {@code Mul(x, a) + b} with constant per-channel vectors
 * (faceres-deep: after each depthwise conv; gear: after the activation). The default rewrite
 * removes them; measured q where the next layer reads, over 512 Gaussian inputs at width 128, is
 * 1. Control: the same rewrite without {@code frozen-bn} keeps them, and q is the closed form of
 * the shaped activation (TAT on one nonlinear layer: sqrt(2) relu): {@code mean_c 2 E[relu(a_c z +
 * b_c)^2]} = {@code mean_c 2 ((a^2 + b^2) Phi(b/a) + a b phi(b/a))} when the affine is before the
 * activation, {@code mean_c (a^2 + 2 a b / sqrt(pi) + b^2)} when after it. A scalar Mul (a
 * normalized-sum weight, hard-swish's 1/6) is not touched.
 */
class FrozenAffinePassTest {
  private static final int WIDTH = 128;

  private static float a(int c) {
    return 0.5f + 1.5f * c / WIDTH;
  }

  private static float b(int c) {
    return -0.5f + (float) c / WIDTH;
  }

  /** dense1 -> [Mul a, Add b] -> relu -> [Mul a, Add b] -> dense2, the affine where asked. */
  private static Model net(boolean beforeActivation, boolean scalar) {
    DenseNets n = new DenseNets(WIDTH);
    TensorName z = n.dense(TensorName.of("input"));
    float[] av = new float[WIDTH];
    float[] bv = new float[WIDTH];
    for (int c = 0; c < WIDTH; c++) {
      av[c] = a(c);
      bv[c] = b(c);
    }
    if (scalar) {
      n.g.add(Nodes.floatScalar("bn/a", 2f));
    } else {
      n.g.add(Nodes.constant("bn/a", TensorProtos.ofFloats(new long[] {WIDTH}, av)));
    }
    n.g.add(Nodes.constant("bn/b", TensorProtos.ofFloats(new long[] {WIDTH}, bv)));
    TensorName x = beforeActivation ? z : n.act("relu", z);
    n.g.add(Nodes.op("Mul", "bn/mul").input(x).input("bn/a").type("T", DataType.DT_FLOAT)
        .build());
    n.g.add(Nodes.op("AddV2", "bn/add").input("bn/mul").input("bn/b")
        .type("T", DataType.DT_FLOAT).build());
    TensorName y = TensorName.of("bn/add");
    return n.model(n.dense(beforeActivation ? n.act("relu", y) : y));
  }

  @Test
  void theRewriteRemovesFrozenBatchNormsAndKeepsQOne() {
    for (boolean before : List.of(true, false)) {
      Model r = DksRewrite.pipeline(RewriteOptions.defaults()).build().run(net(before, false))
          .model();
      GraphView g = GraphView.of(r.graph());
      assertFalse(g.contains("bn/mul") || g.contains("bn/add"), "before " + before);
      assertEquals(1.0, qAtLastLayer(r), 0.05, "before activation: " + before);
    }
  }

  @Test
  void withoutThePassQIsTheAffineClosedForm() {
    double before = 0;
    double after = 0;
    for (int c = 0; c < WIDTH; c++) {
      double a = a(c);
      double b = b(c);
      double t = b / a;
      before += 2 * ((a * a + b * b) * phi(t) + a * b * Math.exp(-t * t / 2)
          / Math.sqrt(2 * Math.PI)) / WIDTH;
      after += (a * a + 2 * a * b / Math.sqrt(Math.PI) + b * b) / WIDTH;
    }
    assertTrue(Math.abs(before - 1) > 0.2 && Math.abs(after - 1) > 0.2, before + " " + after);
    assertEquals(before, qAtLastLayer(DksRewrite.pipeline(RewriteOptions.defaults())
        .skip(FrozenAffinePass.NAME).build().run(net(true, false)).model()), 0.05 * before);
    assertEquals(after, qAtLastLayer(DksRewrite.pipeline(RewriteOptions.defaults())
        .skip(FrozenAffinePass.NAME).build().run(net(false, false)).model()), 0.05 * after);
  }

  @Test
  void aScalarFactorIsNoFrozenBatchNorm() {
    Model r = DksRewrite.pipeline(RewriteOptions.defaults()).build().run(net(false, true))
        .model();
    assertTrue(GraphView.of(r.graph()).contains("bn/mul"));
  }

  /**
   * A per-channel scale after a residual merge (a learned layer scale, or a norm of the sum the
   * merge feeds) is not a batch norm frozen onto one layer: folding it into "the layer" would
   * rescale the shortcut too. The pass leaves it; control: the same Mul on the residual branch's
   * layer output (before the merge) is removed.
   */
  @Test
  void aScaleAfterAResidualMergeIsLeft() {
    for (boolean afterMerge : List.of(true, false)) {
      DenseNets n = new DenseNets(WIDTH);
      TensorName h = n.act("relu", n.dense(TensorName.of("input")));
      // the residual branch's layer without a bias (as a conv before a batch norm has none)
      TensorName r = TensorName.of(n.dense(h).node().replace("BiasAdd", "MatMul"));
      float[] av = new float[WIDTH];
      for (int c = 0; c < WIDTH; c++) {
        av[c] = a(c);
      }
      n.g.add(Nodes.constant("scale/a", TensorProtos.ofFloats(new long[] {WIDTH}, av)));
      TensorName scaled;
      if (afterMerge) {
        TensorName merged = n.add("merge", r, h);
        n.g.add(Nodes.op("Mul", "scale/mul").input(merged).input("scale/a")
            .type("T", DataType.DT_FLOAT).build());
        scaled = TensorName.of("scale/mul");
      } else {
        n.g.add(Nodes.op("Mul", "scale/mul").input(r).input("scale/a")
            .type("T", DataType.DT_FLOAT).build());
        scaled = n.add("merge", TensorName.of("scale/mul"), h);
      }
      Model out = Pipeline.builder().add(new FrozenAffinePass()).build()
          .run(n.model(n.dense(n.act("relu", scaled)))).model();
      assertEquals(afterMerge, GraphView.of(out.graph()).contains("scale/mul"),
          "after the merge: " + afterMerge);
    }
  }

  /** The standard normal CDF (erf from Abramowitz-Stegun 7.1.26 is too coarse: series). */
  private static double phi(double x) {
    // Phi(x) = 1/2 + phi(x) * sum x^(2k+1) / (1*3*...*(2k+1)), converges for all x
    double term = x;
    double sum = x;
    for (int k = 1; k < 200; k++) {
      term *= x * x / (2 * k + 1);
      sum += term;
    }
    return 0.5 + Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI) * sum;
  }

  private static double qAtLastLayer(Model r) {
    String read = GraphView.of(r.graph()).get("dense2/MatMul").getInput(0);
    float[] v;
    try (ModelSession s = new ModelSession(r)) {
      v = TensorProtos.floats(s.run(Map.of("input", DenseNets.gaussianInput(512, WIDTH, 9)),
          List.of(read)).get(read));
    }
    double q = 0;
    for (float x : v) {
      q += (double) x * x / v.length;
    }
    return q;
  }
}
