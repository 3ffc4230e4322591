package dev.dks.rewriter.passes.dks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.passes.norm.TestGraph;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.pipeline.StructuralVerifier;
import dev.dks.rewriter.pipeline.TensorFlowVerifier;
import dev.dks.rewriter.testing.DenseNets;
import dev.dks.solver.init.HomogeneousMode;
import dev.dks.solver.init.PerLocationNormalization;
import dev.dks.solver.init.PlnResult;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.tensorflow.proto.TensorProto;

/**
 * The PLN ops TensorFlow runs equal dks-solver's Java reference implementation of per-location
 * normalization, and the widened first layer (a zero row for the homogeneous coordinate) leaves
 * the network's function of the normalized features unchanged.
 */
class InputNormalizationPassTest {

  private static float[] random(int n, long seed) {
    Random r = new Random(seed);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) (3 * r.nextGaussian() + 0.5);
    }
    return x;
  }

  private static Pipeline pipeline(HomogeneousMode mode) {
    return Pipeline.builder().verifier(new StructuralVerifier())
        .verifier(new TensorFlowVerifier(false)).finalVerifier(new TensorFlowVerifier(true))
        .add(new InputNormalizationPass(mode, 1.0)).build();
  }

  @ParameterizedTest
  @EnumSource(HomogeneousMode.class)
  void convInputMatchesTheJavaReference(HomogeneousMode mode) {
    Model m = ModelBuilder.build(ArchitectureSpec.builder(Architecture.PLAIN_CNN, 2).width(8)
        .input("6x5x3").build()).model();
    Model r = pipeline(mode).run(m).model();
    long[] shape = {2, 6, 5, 3};
    float[] x = random(2 * 6 * 5 * 3, 1);
    double[] xd = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      xd[i] = x[i];
    }
    PlnResult want = new PerLocationNormalization(mode, 1.0, true).apply(xd, shape);
    String in = r.signatures().get(0).inputs().values().iterator().next().tensor().node();
    try (ModelSession s = new ModelSession(r)) {
      float[] got = TensorProtos.floats(s.run(Map.of(in, TensorProtos.ofFloats(shape, x)),
          List.of(in + "/pln/normalized")).get(in + "/pln/normalized"));
      double[] w = want.values();
      assertEquals(w.length, got.length);
      for (int i = 0; i < w.length; i++) {
        assertEquals(w[i], got[i], 1e-5 * Math.max(1, Math.abs(w[i])));
      }
      // negative control, the same comparison against a deliberately wrong normalization: a
      // homogeneous coordinate of 2 instead of 1 (ONE, AVG_Q); without one (OFF), every value
      // divided by the root mean square of its whole example instead of its location (they miss
      // by 0.45, 0.51 and 1.08 relative at tolerance 1e-5)
      double[] wrong = mode == HomogeneousMode.OFF ? perExample(xd, 2)
          : new PerLocationNormalization(mode, 2.0, true).apply(xd, shape).values();
      double miss = 0;
      for (int i = 0; i < w.length; i++) {
        miss = Math.max(miss, Math.abs(wrong[i] - got[i]) / Math.max(1, Math.abs(wrong[i])));
      }
      assertTrue(miss > 100 * 1e-5, "the wrong normalization must miss: " + miss);
    }
  }

  /** x divided by the root mean square of its example (n examples), the wrong axes. */
  private static double[] perExample(double[] x, int n) {
    int per = x.length / n;
    double[] y = new double[x.length];
    for (int e = 0; e < n; e++) {
      double ms = 0;
      for (int i = 0; i < per; i++) {
        ms += x[e * per + i] * x[e * per + i] / per;
      }
      for (int i = 0; i < per; i++) {
        y[e * per + i] = x[e * per + i] / Math.sqrt(ms);
      }
    }
    return y;
  }

  /**
   * A rank-1 input is a batch of scalars: each example is divided by its own root mean square
   * (x / |x|, the Java reference), whatever else the batch holds. (Regression: the Mean over the
   * last axis used to run over the batch axis, so y(3) depended on the other examples.)
   */
  @Test
  void batchOfScalarsIsNormalizedExampleByExample() {
    TestGraph t = new TestGraph(0);
    t.placeholder("x", -1);
    t.scalar("half", 0.5f);
    t.op("Mul", "y", "x", "half");
    // ONE falls back to OFF: a Mul cannot take a homogeneous coordinate
    Model r = pipeline(HomogeneousMode.ONE).run(t.model("x", new long[] {-1}, "y")).model();
    float[] x = {3f, -0.5f, 0.25f, 2f};
    double[] xd = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      xd[i] = x[i];
    }
    double[] want = new PerLocationNormalization(HomogeneousMode.OFF, 1.0, true)
        .apply(xd, new long[] {x.length}).values();
    float[] got = TestGraph.run(r, "x", TensorProtos.ofFloats(new long[] {x.length}, x), "y");
    for (int i = 0; i < x.length; i++) {
      assertEquals(0.5 * want[i], got[i], 1e-6, "example " + i);
      assertEquals(0.5 * Math.signum(x[i]), got[i], 1e-6, "example " + i + " by hand");
    }
    float[] alone = TestGraph.run(r, "x", TensorProtos.ofFloats(new long[] {1}, new float[] {3f}),
        "y");
    assertEquals(got[0], alone[0], 0f, "an example's value must not depend on its batch");
  }

  @ParameterizedTest
  @EnumSource(value = HomogeneousMode.class, names = {"ONE"})
  void widenedDenseLayerComputesTheSameFunctionOfTheFeatures(HomogeneousMode mode) {
    DenseNets n = new DenseNets();
    Model m = n.model(n.dense(n.act("tanh", n.dense(TensorName.of("input")))));
    Model r = pipeline(mode).run(m).model();
    int w = DenseNets.WIDTH;
    float[] x = random(3 * w, 2);
    double[] xd = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      xd[i] = x[i];
    }
    double[] pln = new PerLocationNormalization(mode, 1.0, true).apply(xd, new long[] {3, w})
        .values();
    float[] features = new float[3 * w];
    for (int b = 0; b < 3; b++) {
      for (int f = 0; f < w; f++) {
        features[b * w + f] = (float) pln[b * (w + 1) + f];
      }
    }
    float[] expected;
    float[] got;
    try (ModelSession s = new ModelSession(m)) {
      TensorProto t = TensorProtos.ofFloats(new long[] {3, w}, features);
      expected = TensorProtos.floats(s.run(Map.of("input", t), List.of("output")).get("output"));
    }
    try (ModelSession s = new ModelSession(r)) {
      TensorProto t = TensorProtos.ofFloats(new long[] {3, w}, x);
      got = TensorProtos.floats(s.run(Map.of("input", t), List.of("output")).get("output"));
    }
    for (int i = 0; i < got.length; i++) {
      assertEquals(expected[i], got[i], 1e-5 * Math.max(1, Math.abs(expected[i])));
    }
  }
}
