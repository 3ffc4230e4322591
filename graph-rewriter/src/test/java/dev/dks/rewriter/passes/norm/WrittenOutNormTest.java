package dev.dks.rewriter.passes.norm;

import static dev.dks.rewriter.passes.norm.TestGraph.hasAny;
import static dev.dks.rewriter.passes.norm.TestGraph.maxAbsDiff;
import static dev.dks.rewriter.passes.norm.TestGraph.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.passes.norm.StripNormalizationPass.Mode;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.Pipeline;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.TensorProto;

/** strip-norm on BatchNorm and LayerNorm written out as elementwise ops, run by TF. */
class WrittenOutNormTest {
  static final Set<String> NORM_OPS = Set.of("Rsqrt", "Sqrt", "Mean", "SquaredDifference",
      "FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3", "StopGradient", "Square");
  static final long[] IN2 = {4, 6};
  static final long[] IN4 = {2, 5, 5, 3};

  static Pipeline pipeline(Mode mode) {
    return FusedBatchNormStripTest.pipeline(mode, true);
  }

  /**
   * MatMul + BiasAdd, then tf.nn.batch_normalization as TF1 / Keras write it: inv = rsqrt(var +
   * eps) * gamma; x * inv + (beta - mean * inv); then Tanh.
   */
  static TestGraph denseTfNnBatchNorm() {
    TestGraph t = new TestGraph(11);
    t.placeholder("x", -1, 6);
    t.normalVariable("w", 0, 0.5, 6, 5);
    t.normalVariable("b", 0, 0.5, 5);
    t.op("MatMul", "dense/MatMul", "x", "w");
    t.op("BiasAdd", "dense/BiasAdd", "dense/MatMul", "b");
    t.uniformVariable("bn/gamma", 0.5, 1.5, 5);
    t.normalVariable("bn/beta", 0, 0.5, 5);
    t.normalVariable("bn/moving_mean", 0, 0.5, 5);
    t.uniformVariable("bn/moving_variance", 0.5, 2, 5);
    t.op("Identity", "bn/gamma/read", "bn/gamma");
    t.scalar("bn/batchnorm/add/y", 1e-3f);
    t.op("AddV2", "bn/batchnorm/add", "bn/moving_variance", "bn/batchnorm/add/y");
    t.op("Rsqrt", "bn/batchnorm/Rsqrt", "bn/batchnorm/add");
    t.op("Mul", "bn/batchnorm/mul", "bn/batchnorm/Rsqrt", "bn/gamma/read");
    t.op("Mul", "bn/batchnorm/mul_1", "dense/BiasAdd", "bn/batchnorm/mul");
    t.op("Mul", "bn/batchnorm/mul_2", "bn/moving_mean", "bn/batchnorm/mul");
    t.op("Sub", "bn/batchnorm/sub", "bn/beta", "bn/batchnorm/mul_2");
    t.op("AddV2", "bn/batchnorm/add_1", "bn/batchnorm/mul_1", "bn/batchnorm/sub");
    t.op("Tanh", "y", "bn/batchnorm/add_1");
    return t;
  }

  @Test
  void matcherReadsTheRolesOfTfNnBatchNormalization() {
    List<NormalizationMatch> found = NormalizationMatcher.find(
        GraphView.of(denseTfNnBatchNorm().graph()));
    assertEquals(1, found.size());
    NormalizationMatch m = found.get(0);
    assertEquals(NormKind.BATCH_NORM, m.kind());
    assertEquals(NormalizationMatch.Form.WRITTEN_OUT, m.form());
    assertFalse(m.batchStatistics());
    assertEquals(TensorName.of("dense/BiasAdd"), m.input());
    assertEquals(TensorName.of("bn/batchnorm/add_1"), m.output());
    assertEquals(Map.of("gamma", TensorName.of("bn/gamma/read"), "beta",
        TensorName.of("bn/beta"), "mean", TensorName.of("bn/moving_mean"), "variance",
        TensorName.of("bn/moving_variance")), m.parameters());
    assertEquals(1e-3, m.epsilon(), 1e-9);
    assertEquals(Set.of("bn/batchnorm/add", "bn/batchnorm/Rsqrt", "bn/batchnorm/mul",
        "bn/batchnorm/mul_1", "bn/batchnorm/mul_2", "bn/batchnorm/sub", "bn/batchnorm/add_1"),
        Set.copyOf(m.nodes()));
  }

  @Test
  void foldsTfNnBatchNormalizationIntoMatMulAndBias() {
    TestGraph t = denseTfNnBatchNorm();
    Model m = t.model("x", IN2, "y");
    Pipeline.Result r = pipeline(Mode.FOLD).run(m);
    assertFalse(hasAny(r.model().graph(), NORM_OPS), TestGraph.ops(r.model().graph()).toString());
    assertEquals(Set.of("w", "b"), r.model().variables().keySet());
    assertFalse(GraphView.of(r.model().graph()).contains("bn/gamma/read"));
    TensorProto x = t.randomInput(IN2);
    double d = maxAbsDiff(run(m, "x", x, "y"), run(r.model(), "x", x, "y"));
    assertTrue(d < 1e-4, "max abs diff " + d);
  }

  @Test
  void removesTfNnBatchNormalization() {
    TestGraph t = denseTfNnBatchNorm();
    Pipeline.Result r = pipeline(Mode.REMOVE).run(t.model("x", IN2, "y"));
    assertFalse(hasAny(r.model().graph(), NORM_OPS));
    assertEquals(Set.of("w", "b"), r.model().variables().keySet());
    TestGraph ref = new TestGraph(0);
    ref.placeholder("x", -1, 6);
    ref.variable("w", new long[] {6, 5}, TensorProtos.floats(t.variables().get("w")));
    ref.variable("b", new long[] {5}, TensorProtos.floats(t.variables().get("b")));
    ref.op("MatMul", "mm", "x", "w");
    ref.op("BiasAdd", "ba", "mm", "b");
    ref.op("Tanh", "y", "ba");
    TensorProto x = t.randomInput(IN2);
    assertEquals(0.0, maxAbsDiff(run(r.model(), "x", x, "y"),
        run(ref.model("x", IN2, "y"), "x", x, "y")), 1e-6);
  }

  /**
   * Conv2D, then (x - mean) * rsqrt(eps + var) * gamma + beta with swapped operand orders (Mul
   * and Add with the coefficient first, eps first in the Add), Const parameters (a frozen graph).
   */
  static TestGraph convSwappedConstBn() {
    TestGraph t = new TestGraph(12);
    t.placeholder("x", -1, 5, 5, 3);
    t.normalConst("k", 0, 0.4, 3, 3, 3, 4);
    t.conv("conv", "x", "k");
    t.normalConst("mean", 0, 0.5, 4);
    t.uniformConst("var", 0.5, 2, 4);
    t.uniformConst("gamma", 0.5, 1.5, 4);
    t.normalConst("beta", 0, 0.5, 4);
    t.scalar("eps", 1e-3f);
    t.op("Sub", "bn/sub", "conv", "mean");
    t.op("Add", "bn/add", "eps", "var");
    t.op("Rsqrt", "bn/rsqrt", "bn/add");
    t.op("Mul", "bn/mul", "bn/rsqrt", "bn/sub");
    t.op("Mul", "bn/mul_1", "gamma", "bn/mul");
    t.op("Add", "bn/out", "beta", "bn/mul_1");
    t.op("Relu", "y", "bn/out");
    return t;
  }

  @Test
  void foldsSwappedOperandsIntoAConstConvWithANewConstBias() {
    TestGraph t = convSwappedConstBn();
    Model m = t.model("x", IN4, "y");
    Pipeline.Result r = pipeline(Mode.FOLD).run(m);
    GraphView g = GraphView.of(r.model().graph());
    assertFalse(hasAny(r.model().graph(), NORM_OPS));
    assertTrue(g.contains("conv/bn_folded_bias") && g.get("conv/bn_folded_bias").getOp()
        .equals("Const"));
    assertEquals("BiasAdd", g.get("conv/bn_folded_bias_add").getOp());
    for (String gone : List.of("mean", "var", "gamma", "beta", "eps", "bn/sub")) {
      assertFalse(g.contains(gone), gone);
    }
    TensorProto x = t.randomInput(IN4);
    double d = maxAbsDiff(run(m, "x", x, "y"), run(r.model(), "x", x, "y"));
    assertTrue(d < 1e-4, "max abs diff " + d);
  }

  @Test
  void removesSwappedOperands() {
    TestGraph t = convSwappedConstBn();
    Pipeline.Result r = pipeline(Mode.REMOVE).run(t.model("x", IN4, "y"));
    GraphView g = GraphView.of(r.model().graph());
    assertEquals(Set.of("x", "k", "conv", "y"), Set.copyOf(g.nodes().stream()
        .map(n -> n.getName()).toList()));
    assertEquals("conv", g.get("y").getInput(0));
  }

  /** MatMul without bias, then gamma * (x - mean) / sqrt(var + eps) + beta. */
  @Test
  void foldsTheSqrtDivisionFormAndAddsABiasVariable() {
    TestGraph t = new TestGraph(13);
    t.placeholder("x", -1, 6);
    t.normalVariable("w", 0, 0.5, 6, 5);
    t.op("MatMul", "mm", "x", "w");
    t.normalVariable("mean", 0, 0.5, 5);
    t.uniformVariable("var", 0.5, 2, 5);
    t.uniformVariable("gamma", 0.5, 1.5, 5);
    t.normalVariable("beta", 0, 0.5, 5);
    t.scalar("eps", 1e-3f);
    t.op("Sub", "bn/sub", "mm", "mean");
    t.op("Mul", "bn/scale", "gamma", "bn/sub");
    t.op("AddV2", "bn/add", "var", "eps");
    t.op("Sqrt", "bn/sqrt", "bn/add");
    t.op("RealDiv", "bn/div", "bn/scale", "bn/sqrt");
    t.op("AddV2", "bn/out", "bn/div", "beta");
    t.op("Relu", "y", "bn/out");
    Model m = t.model("x", IN2, "y");
    NormalizationMatch match = NormalizationMatcher.find(GraphView.of(t.graph())).get(0);
    assertEquals(Set.of("gamma", "beta", "mean", "variance"), match.parameters().keySet());
    Pipeline.Result r = pipeline(Mode.FOLD).run(m);
    assertFalse(hasAny(r.model().graph(), NORM_OPS));
    assertEquals(Set.of("w", "mm/bn_folded_bias"), r.model().variables().keySet());
    TensorProto x = t.randomInput(IN2);
    double d = maxAbsDiff(run(m, "x", x, "y"), run(r.model(), "x", x, "y"));
    assertTrue(d < 1e-4, "max abs diff " + d);
  }

  /**
   * LayerNorm over the last axis the way tf.nn.moments + tf.nn.batch_normalization write it:
   * Mean, StopGradient, SquaredDifference, Mean, AddV2 eps, Rsqrt, Mul gamma, Mul, Mul, Sub,
   * AddV2.
   */
  static TestGraph layerNormMoments() {
    TestGraph t = new TestGraph(21);
    t.placeholder("x", -1, 6);
    t.normalVariable("w", 0, 0.5, 6, 8);
    t.op("MatMul", "h", "x", "w");
    t.ints("ln/axes", -1);
    t.mean("ln/mean", "h", "ln/axes");
    t.op("StopGradient", "ln/sg", "ln/mean");
    t.op("SquaredDifference", "ln/sqdiff", "h", "ln/sg");
    t.mean("ln/variance", "ln/sqdiff", "ln/axes");
    t.scalar("ln/eps", 1e-3f);
    t.op("AddV2", "ln/add", "ln/variance", "ln/eps");
    t.op("Rsqrt", "ln/rsqrt", "ln/add");
    t.uniformVariable("ln/gamma", 0.5, 1.5, 8);
    t.normalVariable("ln/beta", 0, 0.5, 8);
    t.op("Mul", "ln/mul", "ln/rsqrt", "ln/gamma");
    t.op("Mul", "ln/mul_1", "h", "ln/mul");
    t.op("Mul", "ln/mul_2", "ln/mean", "ln/mul");
    t.op("Sub", "ln/sub", "ln/beta", "ln/mul_2");
    t.op("AddV2", "ln/out", "ln/mul_1", "ln/sub");
    t.op("Relu", "y", "ln/out");
    return t;
  }

  /** Hand-written LayerNorm: d = h - mean(h); d * rsqrt(mean(d^2) + eps) * gamma + beta. */
  static TestGraph layerNormSubSquare() {
    TestGraph t = new TestGraph(22);
    t.placeholder("x", -1, 6);
    t.normalVariable("w", 0, 0.5, 6, 8);
    t.op("MatMul", "h", "x", "w");
    t.ints("ln/axes", -1);
    t.mean("ln/mean", "h", "ln/axes");
    t.op("Sub", "ln/d", "h", "ln/mean");
    t.op("Square", "ln/sq", "ln/d");
    t.mean("ln/variance", "ln/sq", "ln/axes");
    t.scalar("ln/eps", 1e-3f);
    t.op("AddV2", "ln/add", "ln/eps", "ln/variance");
    t.op("Rsqrt", "ln/rsqrt", "ln/add");
    t.uniformVariable("ln/gamma", 0.5, 1.5, 8);
    t.normalVariable("ln/beta", 0, 0.5, 8);
    t.op("Mul", "ln/norm", "ln/d", "ln/rsqrt");
    t.op("Mul", "ln/scaled", "ln/norm", "ln/gamma");
    t.op("AddV2", "ln/out", "ln/scaled", "ln/beta");
    t.op("Relu", "y", "ln/out");
    return t;
  }

  /** Keras' fused LayerNormalization: Reshape [1, N, D, 1], FusedBatchNormV3 NCHW, Reshape. */
  static TestGraph layerNormKerasFused() {
    TestGraph t = new TestGraph(23);
    t.placeholder("x", 3, 6);
    t.normalVariable("w", 0, 0.5, 6, 8);
    t.op("MatMul", "h", "x", "w");
    t.ints("ln/shape_in", 1, 3, 8, 1);
    t.reshape("ln/Reshape", "h", "ln/shape_in");
    t.constant("ln/ones", new long[] {3}, new float[] {1, 1, 1});
    t.constant("ln/zeros", new long[] {3}, new float[] {0, 0, 0});
    t.constant("ln/empty", new long[] {0}, new float[0]);
    t.add(dev.dks.rewriter.graph.Nodes.op("FusedBatchNormV3", "ln/FusedBatchNormV3")
        .input("ln/Reshape").input("ln/ones").input("ln/zeros").input("ln/empty")
        .input("ln/empty").type("T", org.tensorflow.proto.DataType.DT_FLOAT)
        .type("U", org.tensorflow.proto.DataType.DT_FLOAT).attr("epsilon", 1e-3f)
        .attr("data_format", "NCHW").build());
    t.ints("ln/shape_out", 3, 8);
    t.reshape("ln/Reshape_1", "ln/FusedBatchNormV3", "ln/shape_out");
    t.uniformVariable("ln/gamma", 0.5, 1.5, 8);
    t.normalVariable("ln/beta", 0, 0.5, 8);
    t.op("Mul", "ln/mul", "ln/Reshape_1", "ln/gamma");
    t.op("AddV2", "ln/add", "ln/mul", "ln/beta");
    t.op("Relu", "y", "ln/add");
    return t;
  }

  /** relu(layer_norm(x W) * gamma + beta) computed in Java. */
  static float[] layerNormByHand(TestGraph t, float[] x, int rows) {
    float[] w = TensorProtos.floats(t.variables().get("w"));
    float[] g = TensorProtos.floats(t.variables().get("ln/gamma"));
    float[] b = TensorProtos.floats(t.variables().get("ln/beta"));
    float[] out = new float[rows * 8];
    for (int r = 0; r < rows; r++) {
      double[] h = new double[8];
      for (int j = 0; j < 8; j++) {
        for (int i = 0; i < 6; i++) {
          h[j] += x[r * 6 + i] * w[i * 8 + j];
        }
      }
      double mu = java.util.Arrays.stream(h).average().orElseThrow();
      double var = java.util.Arrays.stream(h).map(v -> (v - mu) * (v - mu)).average()
          .orElseThrow();
      for (int j = 0; j < 8; j++) {
        out[r * 8 + j] = (float) Math.max(0, (h[j] - mu) / Math.sqrt(var + 1e-3) * g[j] + b[j]);
      }
    }
    return out;
  }

  @Test
  void layerNormsAreMatchedAndComputeLayerNorm() {
    for (TestGraph t : List.of(layerNormMoments(), layerNormSubSquare(), layerNormKerasFused())) {
      List<NormalizationMatch> found = NormalizationMatcher.find(GraphView.of(t.graph()));
      assertEquals(1, found.size(), found.toString());
      NormalizationMatch m = found.get(0);
      assertEquals(NormKind.LAYER_NORM, m.kind());
      assertTrue(m.batchStatistics());
      assertEquals(TensorName.of("h"), m.input());
      assertEquals(TensorName.of("ln/gamma"), m.parameters().get("gamma"), m.toString());
      assertEquals(TensorName.of("ln/beta"), m.parameters().get("beta"), m.toString());
      // the test graphs really are layer norms: TF agrees with a Java computation
      TensorProto x = t.randomInput(3, 6);
      float[] tf = run(t.model("x", new long[] {3, 6}, "y"), "x", x, "y");
      float[] java = layerNormByHand(t, TensorProtos.floats(x), 3);
      assertTrue(maxAbsDiff(tf, java) < 1e-4, "max abs diff " + maxAbsDiff(tf, java));
    }
  }

  @Test
  void layerNormsAreRemoved() {
    for (TestGraph t : List.of(layerNormMoments(), layerNormSubSquare(), layerNormKerasFused())) {
      Model m = t.model("x", new long[] {3, 6}, "y");
      Pipeline.Result r = pipeline(Mode.REMOVE).run(m);
      GraphView g = GraphView.of(r.model().graph());
      assertEquals(Set.of("x", "w", "h", "y"), Set.copyOf(g.nodes().stream()
          .map(n -> n.getName()).toList()), TestGraph.ops(r.model().graph()).toString());
      assertEquals(Set.of("w"), r.model().variables().keySet());
      TensorProto x = t.randomInput(3, 6);
      float[] got = run(r.model(), "x", x, "y");
      float[] w = TensorProtos.floats(t.variables().get("w"));
      float[] xs = TensorProtos.floats(x);
      for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 8; j++) {
          double h = 0;
          for (int k = 0; k < 6; k++) {
            h += xs[i * 6 + k] * w[k * 8 + j];
          }
          assertEquals(Math.max(0, h), got[i * 8 + j], 1e-5);
        }
      }
      // FOLD refuses: the statistics come from the input
      PassOutcome o = pipeline(Mode.FOLD).run(m).outcomes().get(1);
      assertEquals(0, o.changes());
      assertTrue(o.notes().get(0).contains("FOLD refuses"), o.notes().toString());
    }
  }

  @Test
  void trainingFormBatchNormWrittenOutIsBatchNormWithBatchStatistics() {
    TestGraph t = new TestGraph(24);
    t.placeholder("x", -1, 5, 5, 3);
    t.normalVariable("k", 0, 0.4, 3, 3, 3, 4);
    t.conv("conv", "x", "k");
    t.ints("bn/axes", 0, 1, 2);
    t.mean("bn/mean", "conv", "bn/axes");
    t.op("SquaredDifference", "bn/sqdiff", "conv", "bn/mean");
    t.mean("bn/variance", "bn/sqdiff", "bn/axes");
    t.scalar("bn/eps", 1e-3f);
    t.op("AddV2", "bn/add", "bn/variance", "bn/eps");
    t.op("Rsqrt", "bn/rsqrt", "bn/add");
    t.op("Sub", "bn/sub", "conv", "bn/mean");
    t.op("Mul", "bn/out", "bn/sub", "bn/rsqrt");
    t.op("Relu", "y", "bn/out");
    NormalizationMatch m = NormalizationMatcher.find(GraphView.of(t.graph())).get(0);
    assertEquals(NormKind.BATCH_NORM, m.kind());
    assertTrue(m.batchStatistics());
    Pipeline.Result r = pipeline(Mode.REMOVE).run(t.model("x", IN4, "y"));
    assertEquals("conv", GraphView.of(r.model().graph()).get("y").getInput(0));
    assertFalse(hasAny(r.model().graph(), NORM_OPS));
  }

  @Test
  void aSharedInternalNodeIsLeftAloneWithANote() {
    TestGraph t = denseTfNnBatchNorm();
    t.op("Identity", "peek", "bn/batchnorm/mul");
    var ctx = new dev.dks.rewriter.pipeline.RewriteContext(GraphView.of(t.graph()),
        t.variables(), List.of("y", "peek"));
    PassOutcome o = new StripNormalizationPass(Mode.REMOVE).run(ctx);
    assertEquals(0, o.changes());
    assertTrue(o.notes().stream().anyMatch(n -> n.contains("'bn/batchnorm/mul'")
        && n.contains("'peek'")), o.notes().toString());
  }

  @Test
  void anRsqrtThatIsNotANormalizationIsIgnoredQuietly() {
    TestGraph t = new TestGraph(25);
    t.placeholder("x", -1, 6);
    t.op("Abs", "a", "x");
    t.op("Rsqrt", "y", "a");
    NormalizationMatcher.Result r = NormalizationMatcher.scan(GraphView.of(t.graph()));
    assertTrue(r.matches().isEmpty());
    assertTrue(r.notes().isEmpty(), r.notes().toString());
  }
}
