package dev.dks.savedmodels.rewrite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.dks.rewriter.DksRewrite;
import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.analysis.LayerSite;
import dev.dks.rewriter.analysis.NetworkAnalysis;
import dev.dks.rewriter.analysis.StructureAnalyzer;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.pipeline.GraphVerificationException;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.passes.defaults.FillDefaultAttrsPass;
import dev.dks.rewriter.passes.freeze.ConstantsToVariablesPass;
import dev.dks.rewriter.passes.fused.SplitFusedOpsPass;
import dev.dks.rewriter.passes.inline.InlineFunctionsPass;
import dev.dks.rewriter.passes.inline.ResourceVariablesPass;
import dev.dks.rewriter.passes.norm.StripNormalizationPass;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.pipeline.StructuralVerifier;
import dev.dks.rewriter.pipeline.TensorFlowVerifier;
import dev.dks.savedmodels.SavedModelReader;
import dev.dks.savedmodels.TestAssets;
import dev.dks.solver.solve.Method;
import dev.dks.solver.solve.ShapingSolution;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * The whole rewrite under DKS on MLPerf Tiny's keyword-spotting DS-CNN (a TF 2.3 Keras
 * SavedModel: functions, resource variables, 9 FusedBatchNormV3, DepthwiseConv2dNative, Relu, no
 * residual): no normalization is left, the ReLUs become shaped softplus, the output is finite, and
 * every depthwise kernel is per-channel Delta-orthogonal (centre tap +-1 for a channel multiplier
 * of 1, every other tap zero) and the first conv's even 10x4 kernel has its one live tap at the
 * centre rounded down; the passes before strip-norm, with the batch
 * norms folded, compute the SavedModel's own outputs.
 */
class KwsDscnnRewriteTest {
  static final String MODEL = "mlperftiny_kws_dscnn";
  /**
   * Softmax outputs of float32 convs, before vs after the function-preserving passes and the
   * fold: 1e-5 absolute (measured 1.2e-7; removing the batch norms instead moves them by 0.62).
   */
  static final double FOLD_TOLERANCE = 1e-5;

  static Model original;
  static Pipeline.Result full;

  @BeforeAll
  static void rewrite() {
    long t0 = System.nanoTime();
    original = SavedModelReader.read(TestAssets.sharedModel(MODEL));
    long read = RealModels.millisSince(t0);
    // the serving output is the IdentityN marker the inlining left (no C++ gradient): point the
    // signature at the tensor it forwards, see rewriteOfTheModelAsReadPassesTheGradientCheck
    Model unwrapped = RealModels.withoutOutputMarkers(original);
    t0 = System.nanoTime();
    full = DksRewrite.pipeline(RewriteOptions.defaults().withMethod(Method.DKS)).build()
        .run(unwrapped);
    System.out.printf("[timing] %s: read %d ms, full DKS rewrite %d ms (%d -> %d nodes)%n", MODEL,
        read, RealModels.millisSince(t0), unwrapped.graph().getNodeCount(),
        full.model().graph().getNodeCount());
    for (PassOutcome o : full.outcomes()) {
      String notes = String.join(" | ", o.notes());
      System.out.println("  " + o.pass() + ": " + o.changes() + " changes; "
          + (notes.length() > 300 ? notes.substring(0, 300) + "..." : notes));
    }
  }

  /**
   * The model exactly as {@link SavedModelReader} returns it is rewritten. Its serving output
   * {@code StatefulPartitionedCall:0} is the {@code IdentityN} marker that inline-functions keeps
   * for a signature's call node; the pipeline's final gradient check ({@code
   * TensorFlowVerifier(true)}) differentiates what the marker forwards (regression: it used to
   * fail with "No gradient defined for op: IdentityN", on every TF2 SavedModel).
   */
  @Test
  void rewriteOfTheModelAsReadPassesTheGradientCheck() {
    Map<String, Integer> ops = RealModels.opsOnPath(GraphView.of(original.graph()),
        RealModels.servingOutputs(original));
    System.out.printf("%s: serving output node %s (%s)%n", MODEL,
        RealModels.servingOutputs(original),
        GraphView.of(original.graph()).get(RealModels.servingOutputs(original).get(0)).getOp());
    assertTrue(ops.containsKey("Softmax"), ops.toString());
    Pipeline.Result r;
    try {
      r = DksRewrite.pipeline(RewriteOptions.defaults().withMethod(Method.DKS)).build()
          .run(original);
    } catch (GraphVerificationException e) {
      fail(MODEL + ": the rewrite of the model as read fails: " + e.getMessage(), e);
      return;
    }
    assertEquals(0, RealModels.opsOnPath(GraphView.of(r.model().graph()),
        RealModels.servingOutputs(r.model())).getOrDefault("FusedBatchNormV3", 0));
  }

  @Test
  void noNormalizationAndNoReluLeft() {
    Map<String, Integer> opsBefore = RealModels.opsOnPath(GraphView.of(original.graph()),
        RealModels.servingOutputs(original));
    assertEquals(9, opsBefore.getOrDefault("FusedBatchNormV3", 0), opsBefore.toString());
    GraphView g = GraphView.of(full.model().graph());
    Map<String, Integer> after = RealModels.opsOnPath(g, RealModels.servingOutputs(full.model()));
    for (String op : RealModels.NORM_OPS) {
      assertFalse(after.containsKey(op), op + " left: " + after);
    }
    for (NodeDef n : g.nodes()) {
      assertFalse(RealModels.NORM_OPS.contains(n.getOp()), "normalization left: " + n.getName());
    }
    assertFalse(after.containsKey("Relu"), "Relu left: " + after);
    // DKS: the ReLU family becomes softplus, shaped
    assertEquals(9, after.getOrDefault("Softplus", 0), after.toString());
    ShapingSolution sol = full.fact(ShapingSolution.class).orElseThrow();
    assertEquals(Method.DKS, sol.method());
    assertTrue(sol.activations().containsKey("softplus"), sol.activations().keySet().toString());
    System.out.printf("%s: FusedBatchNormV3 9 -> 0, Relu %d -> 0, Softplus %d, softplus params "
        + "%s; ops after: %s%n", MODEL, opsBefore.getOrDefault("Relu", 0),
        after.get("Softplus"), sol.get("softplus").params().asMap(), after);
  }

  @Test
  void outputsAreFinite() {
    float[] y = RealModels.runOnGaussian(full.model(), new long[] {3, 49, 10, 1}, 5);
    assertEquals(36, y.length);
    assertEquals(-1, RealModels.firstNonFinite(y), Arrays.toString(y));
    for (int r = 0; r < 3; r++) {
      double sum = 0;
      for (int c = 0; c < 12; c++) {
        sum += y[r * 12 + c];
      }
      assertEquals(1.0, sum, 1e-5, "softmax row " + r);
    }
    System.out.printf("%s: rewritten output row 0 %s%n", MODEL,
        Arrays.toString(Arrays.copyOf(y, 12)));
  }

  /**
   * The passes that must not change the function (fill-defaults, inline-functions,
   * resource-to-ref-vars, split-fused, constants-to-variables) followed by strip-norm in FOLD mode
   * (the 9 inference-form batch norms folded into the convs) compute the SavedModel's own
   * serving output on N(0, 1) inputs, to {@link #FOLD_TOLERANCE}; with REMOVE instead of FOLD
   * (which changes the function) the same comparison fails.
   */
  @Test
  void functionPreservingPassesAndFoldKeepTheModelsOutputs() {
    TensorProto x = RealModels.gaussian(new long[] {4, 49, 10, 1}, new java.util.Random(17));
    float[] want = RealModels.runServing(original, x);
    assertEquals(48, want.length);
    double spread = 0;
    for (float v : want) {
      spread = Math.max(spread, Math.min(v, 1 - v));
    }
    assertTrue(spread > 0.01, "softmax outputs all saturated, the comparison would be weak: "
        + Arrays.toString(want));
    double folded = maxDiff(want, RealModels.runServing(prefix(
        StripNormalizationPass.Mode.FOLD).run(original).model(), x));
    double removed = maxDiff(want, RealModels.runServing(prefix(
        StripNormalizationPass.Mode.REMOVE).run(original).model(), x));
    System.out.printf("%s: serving output vs the SavedModel's own: fold %.3g, remove %.3g%n",
        MODEL, folded, removed);
    assertTrue(folded <= FOLD_TOLERANCE, "fold: " + folded);
    assertTrue(removed > 100 * FOLD_TOLERANCE, "negative control, remove: " + removed);
  }

  private static Pipeline prefix(StripNormalizationPass.Mode mode) {
    return Pipeline.builder().verifier(new StructuralVerifier())
        .verifier(new TensorFlowVerifier(false)).add(new FillDefaultAttrsPass())
        .add(new InlineFunctionsPass()).add(new ResourceVariablesPass())
        .add(new SplitFusedOpsPass()).add(new ConstantsToVariablesPass())
        .add(new StripNormalizationPass(mode)).build();
  }

  private static double maxDiff(float[] a, float[] b) {
    assertEquals(a.length, b.length);
    double d = 0;
    for (int i = 0; i < a.length; i++) {
      d = Math.max(d, Math.abs(a[i] - b[i]));
    }
    return d;
  }

  @Test
  void depthwiseKernelsArePerChannelDeltaOrthogonal() {
    NetworkAnalysis a = StructureAnalyzer.analyze(GraphView.of(full.model().graph()),
        full.model().inputNodes(), full.model().outputNodes());
    List<LayerSite> depthwise = a.layers().stream()
        .filter(l -> l.op().equals("DepthwiseConv2dNative")).toList();
    assertEquals(4, depthwise.size(), a.layers().toString());
    StringBuilder report = new StringBuilder();
    for (LayerSite l : depthwise) {
      TensorProto k = full.model().variables().get(l.kernelVariable());
      assertTrue(k != null, "no value for " + l.kernelVariable());
      long[] s = TensorProtos.shape(k);
      assertEquals(4, s.length, Arrays.toString(s));
      float[] v = TensorProtos.floats(k);
      assertFalse(Arrays.equals(v, TensorProtos.floats(original.variables()
          .get(l.kernelVariable()))), l.node() + " kept its trained kernel");
      int h = (int) s[0];
      int w = (int) s[1];
      int c = (int) s[2];
      int mult = (int) s[3];
      report.append(l.node()).append(' ').append(Arrays.toString(s)).append("; ");
      int centre = ((h - 1) / 2) * w + (w - 1) / 2;
      for (int p = 0; p < h * w; p++) {
        for (int ch = 0; ch < c; ch++) {
          for (int j = 0; j < mult; j++) {
            float x = v[(p * c + ch) * mult + j];
            if (p != centre) {
              assertEquals(0f, x, 0f, l.node() + " tap " + p + " channel " + ch);
            } else {
              assertNotEquals(0f, x, l.node() + " centre, channel " + ch);
              if (mult == 1) {
                assertEquals(1f, Math.abs(x), 1e-6f, l.node() + " centre, channel " + ch);
              }
            }
          }
        }
      }
      if (!l.biasVariable().isEmpty()) {
        for (float b : TensorProtos.floats(full.model().variables().get(l.biasVariable()))) {
          assertEquals(0f, b, 0f, l.biasVariable());
        }
      }
    }
    // the first conv's 10x4 kernel (even): one live tap, the centre rounded down (4, 1), which
    // SAME padding keeps inside the input at every output location
    LayerSite first = a.layers().stream().filter(l -> l.op().equals("Conv2D")).findFirst()
        .orElseThrow();
    long[] fs = TensorProtos.shape(full.model().variables().get(first.kernelVariable()));
    assertEquals(10, fs[0], Arrays.toString(fs));
    assertEquals(4, fs[1], Arrays.toString(fs));
    float[] fv = TensorProtos.floats(full.model().variables().get(first.kernelVariable()));
    int block = (int) (fs[2] * fs[3]);
    for (int p = 0; p < 40; p++) {
      boolean live = false;
      for (int j = 0; j < block; j++) {
        live |= fv[p * block + j] != 0f;
      }
      assertEquals(p == 4 * 4 + 1, live, first.node() + " tap " + p);
    }
    long convs = a.layers().stream().filter(l -> Set.of("Conv2D", "MatMul").contains(l.op()))
        .count();
    System.out.printf("%s: depthwise kernels %s(+ %d Conv2D/MatMul layers)%n", MODEL, report,
        convs);
  }
}
