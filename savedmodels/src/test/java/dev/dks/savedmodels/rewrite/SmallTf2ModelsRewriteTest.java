package dev.dks.savedmodels.rewrite;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.dks.rewriter.DksRewrite;
import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.pipeline.GraphVerificationException;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.savedmodels.SavedModelReader;
import dev.dks.savedmodels.TestAssets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tensorflow.proto.TensorProto;

/**
 * The whole rewrite (TAT defaults) on two small TF2 SavedModels without activations:
 * TensorFlow.NET's "python_func_model" (a custom Keras layer {@code x W + (x W - 1)} then
 * Softmax, one MatMul, no activation) and TF Serving's {@code half_plus_two} TF2 model (six
 * signatures of {@code a x + b} / {@code a x + c}, some behind {@code ParseExampleV2}). Without
 * activations the rewrite should pass the model through: "no activation" notes from
 * shape-activations, nothing removed; the outputs are checked against hand computations.
 */
class SmallTf2ModelsRewriteTest {
  static final String TRANSFORMER = "tfnet_python_func_model_transformer";
  static final String HALF_PLUS_TWO = "tfserving_half_plus_two_tf2_cpu";

  private static Pipeline.Result rewrite(String label, Model m) {
    long t0 = System.nanoTime();
    try {
      Pipeline.Result r = DksRewrite.pipeline(RewriteOptions.defaults()).build().run(m);
      System.out.printf("[timing] %s: full TAT rewrite %d ms (%d -> %d nodes)%n", label,
          RealModels.millisSince(t0), m.graph().getNodeCount(), r.model().graph().getNodeCount());
      for (PassOutcome o : r.outcomes()) {
        System.out.println("  " + o.pass() + ": " + o.changes() + " changes; " + o.notes());
      }
      return r;
    } catch (RuntimeException e) {
      System.out.printf("[timing] %s: rewrite failed after %d ms: %s%n", label,
          RealModels.millisSince(t0), e);
      throw e;
    }
  }

  private static PassOutcome outcome(Pipeline.Result r, String pass) {
    return r.outcomes().stream().filter(o -> o.pass().equals(pass)).findFirst().orElseThrow();
  }

  /**
   * The models exactly as {@link SavedModelReader} returns them are rewritten: their signature
   * outputs ({@code StatefulPartitionedCall*:0}) are the {@code IdentityN} markers
   * inline-functions keeps, and the final gradient check differentiates what such a marker
   * forwards (TF has no IdentityN gradient). Regression test of that fix.
   */
  @ParameterizedTest
  @ValueSource(strings = {TRANSFORMER, HALF_PLUS_TWO})
  void modelsAsReadAreRewritten(String name) {
    Model m = SavedModelReader.read(TestAssets.sharedModel(name));
    try {
      rewrite(name + " (as read)", m);
    } catch (GraphVerificationException e) {
      fail(name + ": the rewrite of the model as read fails: " + e.getMessage(), e);
    }
  }

  /**
   * The custom layer's {@code add_1 = MatMul + (MatMul - 1)} is no skip connection (both operands
   * are affine functions of the same MatMul, no nonlinear layer between), so nothing may be
   * removed: without activations the model passes through ("no activation"), only the MatMul
   * kernel is re-initialized. (Regression: before commit d29da8e's StructureAnalyzer change the
   * skips pass removed this add and pruned its Sub branch, changing the function.)
   */
  @Test
  void transformerWithoutActivationsPassesThrough() {
    Model m = RealModels.withoutOutputMarkers(SavedModelReader.read(
        TestAssets.sharedModel(TRANSFORMER)));
    Pipeline.Result r = rewrite(TRANSFORMER + " (output marker unwrapped)", m);
    PassOutcome shape = outcome(r, "shape-activations");
    assertEquals(0, shape.changes());
    assertTrue(shape.notes().stream().anyMatch(n -> n.contains("no activation")),
        shape.notes().toString());
    assertEquals(0, outcome(r, "strip-norm").changes(), outcome(r, "strip-norm").notes()
        .toString());

    // it computes, by hand, y = softmax(2 pln([x + a, 1]) W - s): the constant add right after
    // the input is the model's preprocessing, so per-location normalization follows it, with a
    // homogeneous coordinate since it now feeds the MatMul (pln(v) = v / rms(v) per row); a and s
    // are the layer's constants, W the re-initialized and widened kernel [785, 10]; 1e-5 absolute
    // on the softmax
    Model out = r.model();
    TensorProto x = RealModels.gaussian(new long[] {2, 784}, new java.util.Random(2));
    float[] p = RealModels.runServing(out, x);
    assertEquals(20, p.length);
    GraphView g = GraphView.of(out.graph());
    float a = constant(g, "transformer/add/y");
    float s = constant(g, "transformer/sub/y");
    float[] w = TensorProtos.floats(out.variables().get("transformer/matrix"));
    assertEquals(785 * 10, w.length, "the kernel widened by one input row");
    double right = maxDiff(p, byHand(TensorProtos.floats(x), w, a, s, Pln.AFTER_ADD));
    assertTrue(right <= 1e-5, "vs the hand computation: " + right);
    // negative controls: normalization before the add, and none at all
    double before = maxDiff(p, byHand(TensorProtos.floats(x), w, a, s, Pln.BEFORE_ADD));
    assertTrue(before > 1e-3, "negative control, pln(x) + a: " + before);
    double noPln = maxDiff(p, byHand(TensorProtos.floats(x), w, a, s, Pln.NONE));
    assertTrue(noPln > 1e-3, "negative control, without the input normalization: " + noPln);

    // nothing but the layer's initialization may change: the Sub branch must still be there
    PassOutcome skips = outcome(r, "skips");
    assertEquals(0, skips.changes(), "the skips pass removed a sum that is no skip "
        + "connection: " + skips.notes());
    Map<String, Integer> ops = RealModels.opsOnPath(GraphView.of(out.graph()),
        RealModels.servingOutputs(out));
    assertEquals(2, ops.getOrDefault("AddV2", 0), ops.toString());
    assertEquals(1, ops.getOrDefault("Sub", 0), ops.toString());
  }

  /**
   * With all six signatures the model is rewritten: the final gradient check asks for the
   * gradient of each output with respect to the variables that reach <em>that</em> output only
   * (variable {@code c} feeds only the x2_to_y3 signatures, not serving_default). Regression test
   * of that fix.
   */
  @Test
  void halfPlusTwoWithAllSignaturesIsRewritten() {
    Model m = RealModels.withoutOutputMarkers(SavedModelReader.read(
        TestAssets.sharedModel(HALF_PLUS_TWO)));
    assertEquals(6, m.signatures().size());
    try {
      Pipeline.Result r = rewrite(HALF_PLUS_TWO + " (6 signatures, output markers unwrapped)",
          m);
      assertEquals(0, outcome(r, "shape-activations").changes());
    } catch (GraphVerificationException e) {
      fail(HALF_PLUS_TWO + ": " + e.getMessage(), e);
    }
  }

  /**
   * With serving_default alone (and its output marker unwrapped) the model passes through: no
   * activation, no layer, no merge. With the input normalization switched off, y = x / 2 + 2
   * still (y(3) = 3.5, y(-3) = 0.5); with the default per-location input normalization each
   * example's single feature is divided by its root mean square |x| (no homogeneous coordinate:
   * the input feeds no layer), so x becomes sign(x): y(3) = 1 / 2 + 2 = 2.5 and y(-3) = 1.5, and
   * a batch is normalized example by example.
   */
  @Test
  void halfPlusTwoServingDefaultPassesThrough() {
    Model read = RealModels.withoutOutputMarkers(SavedModelReader.read(
        TestAssets.sharedModel(HALF_PLUS_TWO)));
    Model m = new Model(read.graph(), read.variables(),
        List.of(read.signature(Signature.SERVING_DEFAULT)));
    Pipeline.Result r = rewrite(HALF_PLUS_TWO + " (serving_default only)", m);
    PassOutcome shape = outcome(r, "shape-activations");
    assertEquals(0, shape.changes());
    assertTrue(shape.notes().stream().anyMatch(n -> n.contains("no activation")),
        shape.notes().toString());
    for (String pass : List.of("strip-norm", "skips", "max-pool", "dks-init")) {
      assertEquals(0, outcome(r, pass).changes(), pass + ": " + outcome(r, pass).notes());
    }
    float withDefaults = halfPlusTwoAt3(r.model());
    assertEquals(2.5f, withDefaults, 1e-6f);
    assertArrayEquals(new float[] {2.5f, 1.5f, 2.5f}, RealModels.runServing(r.model(),
        TensorProtos.ofFloats(new long[] {3}, new float[] {3f, -3f, 0.25f})), 1e-6f);

    Pipeline.Result plain = DksRewrite.pipeline(RewriteOptions.defaults()
        .withInputNormalization(null)).build().run(m);
    float unchanged = halfPlusTwoAt3(plain.model());
    System.out.printf("%s: y(3) = %s after the default rewrite, %s without input "
        + "normalization%n", HALF_PLUS_TWO, withDefaults, unchanged);
    assertEquals(3.5f, unchanged, 1e-6f);
    assertArrayEquals(new float[] {3.5f, 0.5f, 2.125f}, RealModels.runServing(plain.model(),
        TensorProtos.ofFloats(new long[] {3}, new float[] {3f, -3f, 0.25f})), 1e-6f);
  }

  /** The float value of the Const whose name ends with {@code suffix}. */
  private static float constant(GraphView g, String suffix) {
    return g.nodes().stream().filter(n -> n.getName().endsWith(suffix)).findFirst()
        .map(n -> TensorProtos.floats(n.getAttrOrThrow("value").getTensor())[0])
        .orElseThrow(() -> new AssertionError("no Const " + suffix));
  }

  /** softmax(2 (x' + a) W - s) per row of [n, 784] x, x' = x / rms(x) or x itself. */
  /** Where the hand computation normalizes the input. */
  private enum Pln {
    /** pln(x) + a, no homogeneous coordinate (the placement before the pln pass followed adds). */
    BEFORE_ADD,
    /** pln([x + a, 1]) with W [785, 10]: after the constant add, with a homogeneous coordinate. */
    AFTER_ADD,
    /** x + a. */
    NONE
  }

  /** softmax(2 u W - s) per row of 784, with u the input normalized as {@code pln} says. */
  private static double[] byHand(float[] x, float[] w, float a, float s, Pln pln) {
    int in = 784;
    int out = 10;
    int n = x.length / in;
    double[] y = new double[n * out];
    for (int r = 0; r < n; r++) {
      double ms = 0;
      for (int i = 0; i < in; i++) {
        double v = pln == Pln.AFTER_ADD ? x[r * in + i] + a : x[r * in + i];
        ms += v * v;
      }
      ms = pln == Pln.AFTER_ADD ? (ms + 1) / (in + 1) : ms / in;
      double scale = pln == Pln.NONE ? 1 : 1 / Math.sqrt(ms);
      double[] z = new double[out];
      double max = Double.NEGATIVE_INFINITY;
      for (int o = 0; o < out; o++) {
        double dot = 0;
        for (int i = 0; i < in; i++) {
          double u = pln == Pln.AFTER_ADD ? (x[r * in + i] + a) * scale : x[r * in + i] * scale + a;
          dot += u * w[i * out + o];
        }
        if (pln == Pln.AFTER_ADD) {
          dot += scale * w[in * out + o]; // the homogeneous coordinate's row
        }
        z[o] = 2 * dot - s;
        max = Math.max(max, z[o]);
      }
      double sum = 0;
      for (int o = 0; o < out; o++) {
        z[o] = Math.exp(z[o] - max);
        sum += z[o];
      }
      for (int o = 0; o < out; o++) {
        y[r * out + o] = z[o] / sum;
      }
    }
    return y;
  }

  private static double maxDiff(float[] a, double[] b) {
    assertEquals(b.length, a.length);
    double d = 0;
    for (int i = 0; i < a.length; i++) {
      d = Math.max(d, Math.abs(a[i] - b[i]));
    }
    return d;
  }

  private static float halfPlusTwoAt3(Model m) {
    float[] v = RealModels.runServing(m, TensorProtos.ofFloats(new long[] {1}, new float[] {3f}));
    assertEquals(1, v.length);
    return v[0];
  }
}
