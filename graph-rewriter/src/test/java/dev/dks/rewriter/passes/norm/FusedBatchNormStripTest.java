package dev.dks.rewriter.passes.norm;

import static dev.dks.rewriter.passes.norm.TestGraph.hasAny;
import static dev.dks.rewriter.passes.norm.TestGraph.maxAbsDiff;
import static dev.dks.rewriter.passes.norm.TestGraph.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.passes.defaults.FillDefaultAttrsPass;
import dev.dks.rewriter.passes.norm.StripNormalizationPass.Mode;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.pipeline.RewriteContext;
import dev.dks.rewriter.pipeline.StructuralVerifier;
import dev.dks.rewriter.pipeline.TensorFlowVerifier;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

/** strip-norm on FusedBatchNorm v1/v2/v3 after Conv2D / DepthwiseConv2dNative, run by TF. */
class FusedBatchNormStripTest {
  static final Set<String> BN_OPS = Set.of("FusedBatchNorm", "FusedBatchNormV2",
      "FusedBatchNormV3");
  static final long[] IN = {2, 6, 6, 3};

  /** x -> Conv2D(k) [-> BiasAdd(b)] -> BN -> Relu -> y, with random trained-looking values. */
  static TestGraph convBn(String bnOp, boolean bias, boolean training) {
    TestGraph t = new TestGraph(42);
    t.placeholder("x", -1, 6, 6, 3);
    t.normalVariable("k", 0, 0.4, 3, 3, 3, 4);
    String h = t.conv("conv", "x", "k");
    if (bias) {
      t.normalVariable("b", 0, 0.5, 4);
      h = t.op("BiasAdd", "conv/bias", h, "b");
    }
    t.uniformVariable("bn/gamma", 0.5, 1.5, 4);
    t.normalVariable("bn/beta", 0, 0.5, 4);
    if (training) {
      t.constant("bn/mean", new long[] {0}, new float[0]);
      t.constant("bn/var", new long[] {0}, new float[0]);
    } else {
      t.normalVariable("bn/mean", 0, 0.5, 4);
      t.uniformVariable("bn/var", 0.5, 2.0, 4);
    }
    t.fusedBatchNorm(bnOp, "bn", h, "bn/gamma", "bn/beta", "bn/mean", "bn/var", 1e-3f,
        training);
    t.op("Relu", "y", "bn");
    return t;
  }

  /** relu(conv(x) [+ b]) built by hand with the same kernel (and bias) values. */
  static Model reference(TestGraph source, boolean bias) {
    TestGraph r = new TestGraph(0);
    r.placeholder("x", -1, 6, 6, 3);
    r.variable("k", new long[] {3, 3, 3, 4}, floats(source.variables().get("k")));
    String h = r.conv("conv", "x", "k");
    if (bias) {
      r.variable("b", new long[] {4}, floats(source.variables().get("b")));
      h = r.op("BiasAdd", "conv/bias", h, "b");
    }
    r.op("Relu", "y", h);
    return r.model("x", IN, "y");
  }

  static float[] floats(TensorProto t) {
    return dev.dks.rewriter.model.TensorProtos.floats(t);
  }

  static Pipeline pipeline(Mode mode, boolean gradients) {
    return Pipeline.builder().add(new FillDefaultAttrsPass())
        .add(new StripNormalizationPass(mode)).verifier(new StructuralVerifier())
        .verifier(new TensorFlowVerifier(gradients)).build();
  }

  @Test
  void removeLeavesReluOfConv() {
    TestGraph t = convBn("FusedBatchNormV3", false, false);
    Pipeline.Result r = pipeline(Mode.REMOVE, true).run(t.model("x", IN, "y"));
    assertFalse(hasAny(r.model().graph(), BN_OPS), TestGraph.ops(r.model().graph()).toString());
    assertEquals(Set.of("k"), r.model().variables().keySet());
    assertEquals(1, r.outcomes().get(1).changes(), r.outcomes().toString());
    for (String gone : List.of("bn", "bn/gamma", "bn/beta", "bn/mean", "bn/var")) {
      assertFalse(GraphView.of(r.model().graph()).contains(gone), gone);
    }
    TensorProto x = t.randomInput(IN);
    float[] got = run(r.model(), "x", x, "y");
    float[] want = run(reference(t, false), "x", x, "y");
    assertEquals(0.0, maxAbsDiff(got, want), 1e-6);
  }

  @ParameterizedTest
  @CsvSource({"FusedBatchNorm,false", "FusedBatchNormV2,false", "FusedBatchNormV3,false",
      "FusedBatchNorm,true", "FusedBatchNormV3,true"})
  void foldKeepsTheFunction(String op, boolean bias) {
    TestGraph t = convBn(op, bias, false);
    Model m = t.model("x", IN, "y");
    // FusedBatchNorm and V2 have no C++ gradient, so the gradient check can only run after the
    // pass: the pipeline runs without it and the result is checked with it.
    Pipeline.Result r = pipeline(Mode.FOLD, op.equals("FusedBatchNormV3")).run(m);
    TestGraph.verifyAccepted(r.model());
    assertFalse(hasAny(r.model().graph(), BN_OPS));
    assertEquals(1, r.outcomes().get(1).changes(), r.outcomes().toString());
    String note = String.join("\n", r.outcomes().get(1).notes());
    assertTrue(note.contains("folded into Conv2D 'conv'"), note);
    TensorProto x = t.randomInput(IN);
    float[] before = run(m, "x", x, "y");
    float[] after = run(r.model(), "x", x, "y");
    assertTrue(maxAbsDiff(before, after) < FOLD_TOLERANCE, "max abs diff "
        + maxAbsDiff(before, after));
    assertTrue(TestGraph.maxAbs(before) > 0.5, "the test output should not be trivial");
    // negative control: the same graph with a fold that forgets BN's epsilon (1e-3)
    String biasVar = bias ? "b" : "conv/bn_folded_bias";
    Model noEps = r.model().with(r.model().graph(), foldByHand(t, bias, biasVar, 0.0));
    double wrong = maxAbsDiff(before, run(noEps, "x", x, "y"));
    assertTrue(wrong > 10 * FOLD_TOLERANCE, "a fold without epsilon must fail: " + wrong);
    // kernel scaled, BN variables gone, a bias exists (updated or new)
    Map<String, TensorProto> vars = r.model().variables();
    assertFalse(vars.containsKey("bn/gamma") || vars.containsKey("bn/var"));
    assertEquals(2, vars.size(), vars.keySet().toString());
    if (!bias) {
      assertTrue(vars.containsKey("conv/bn_folded_bias"), vars.keySet().toString());
    }
  }

  /**
   * Fold before/after on N(0, 1) inputs with non-zero beta, mean and bias: float32 rounding of
   * conv sums, measured 1e-6 at most; a fold that forgets epsilon = 1e-3 (variances 0.5..2)
   * misses by 1.7e-3 or more.
   */
  static final double FOLD_TOLERANCE = 1e-4;

  /** The folded variables computed by hand with the given epsilon: k * a, a (b - mu) + beta. */
  static Map<String, TensorProto> foldByHand(TestGraph t, boolean bias, String biasVar,
      double eps) {
    Map<String, TensorProto> v = t.variables();
    float[] k = floats(v.get("k")).clone();
    float[] g = floats(v.get("bn/gamma"));
    float[] be = floats(v.get("bn/beta"));
    float[] mu = floats(v.get("bn/mean"));
    float[] var = floats(v.get("bn/var"));
    float[] b = bias ? floats(v.get("b")) : new float[4];
    float[] b2 = new float[4];
    for (int c = 0; c < 4; c++) {
      double a = g[c] / Math.sqrt(var[c] + eps);
      b2[c] = (float) (a * (b[c] - mu[c]) + be[c]);
      for (int i = c; i < k.length; i += 4) {
        k[i] = (float) (a * k[i]);
      }
    }
    return Map.of("k", dev.dks.rewriter.model.TensorProtos.ofFloats(new long[] {3, 3, 3, 4}, k),
        biasVar, dev.dks.rewriter.model.TensorProtos.ofFloats(new long[] {4}, b2));
  }

  @Test
  void foldComputesTheKernelAndBiasByTheFormula() {
    TestGraph t = convBn("FusedBatchNormV3", true, false);
    Map<String, TensorProto> v = t.variables();
    RewriteContext ctx = new RewriteContext(GraphView.of(t.graph()), v, List.of("y"));
    new StripNormalizationPass(Mode.FOLD).run(ctx);
    float[] k = floats(v.get("k"));
    float[] b = floats(v.get("b"));
    float[] g = floats(v.get("bn/gamma"));
    float[] be = floats(v.get("bn/beta"));
    float[] mu = floats(v.get("bn/mean"));
    float[] var = floats(v.get("bn/var"));
    float[] k2 = floats(ctx.variables().get("k"));
    float[] b2 = floats(ctx.variables().get("b"));
    for (int c = 0; c < 4; c++) {
      double a = g[c] / Math.sqrt(var[c] + 1e-3);
      assertEquals(a * (b[c] - mu[c]) + be[c], b2[c], 1e-5);
      for (int i = c; i < k.length; i += 4) {
        assertEquals(a * k[i], k2[i], 1e-5);
      }
    }
  }

  @Test
  void foldsIntoDepthwiseConvWithChannelMultiplier() {
    TestGraph t = new TestGraph(7);
    t.placeholder("x", -1, 5, 5, 3);
    t.normalVariable("dw", 0, 0.5, 3, 3, 3, 2);
    t.depthwise("dwconv", "x", "dw");
    t.uniformVariable("g", 0.5, 1.5, 6);
    t.normalVariable("be", 0, 0.5, 6);
    t.normalVariable("mu", 0, 0.5, 6);
    t.uniformVariable("va", 0.2, 2, 6);
    t.fusedBatchNorm("FusedBatchNormV3", "bn", "dwconv", "g", "be", "mu", "va", 1e-3f, false);
    t.op("Relu6", "y", "bn");
    long[] in = {2, 5, 5, 3};
    Model m = t.model("x", in, "y");
    Pipeline.Result r = pipeline(Mode.FOLD, true).run(m);
    assertFalse(hasAny(r.model().graph(), BN_OPS));
    TensorProto x = t.randomInput(in);
    double d = maxAbsDiff(run(m, "x", x, "y"), run(r.model(), "x", x, "y"));
    assertTrue(d < 1e-4, "max abs diff " + d);
  }

  @Test
  void trainingFormIsRemovedButNotFolded() {
    TestGraph t = convBn("FusedBatchNormV3", false, true);
    Model m = t.model("x", IN, "y");
    Pipeline.Result removed = pipeline(Mode.REMOVE, true).run(m);
    assertFalse(hasAny(removed.model().graph(), BN_OPS));
    assertEquals(Set.of("k"), removed.model().variables().keySet());
    TensorProto x = t.randomInput(IN);
    assertEquals(0.0, maxAbsDiff(run(removed.model(), "x", x, "y"),
        run(reference(t, false), "x", x, "y")), 1e-6);

    Pipeline.Result folded = pipeline(Mode.FOLD, true).run(m);
    assertEquals(0, folded.outcomes().get(1).changes());
    assertTrue(folded.outcomes().get(1).notes().stream().anyMatch(n -> n.contains("'bn'")
        && n.contains("FOLD refuses")), folded.outcomes().get(1).notes().toString());
    assertTrue(hasAny(folded.model().graph(), BN_OPS));
  }

  @Test
  void missingIsTrainingMeansTrainingForm() {
    TestGraph t = new TestGraph(3);
    t.placeholder("x", -1, 6, 6, 3);
    t.normalVariable("k", 0, 0.4, 3, 3, 3, 4);
    t.conv("conv", "x", "k");
    t.uniformVariable("g", 0.5, 1.5, 4);
    t.normalVariable("be", 0, 0.5, 4);
    t.constant("e", new long[] {0}, new float[0]);
    t.add(dev.dks.rewriter.graph.Nodes.op("FusedBatchNormV3", "bn").input("conv").input("g")
        .input("be").input("e").input("e").type("T", DataType.DT_FLOAT)
        .type("U", DataType.DT_FLOAT).build());
    t.op("Relu", "y", "bn");
    List<NormalizationMatch> found = NormalizationMatcher.find(GraphView.of(t.graph()));
    assertEquals(1, found.size());
    assertTrue(found.get(0).batchStatistics());
  }

  @Test
  void otherOutputsReadMeansLeftAloneWithANote() {
    TestGraph t = convBn("FusedBatchNormV3", false, false);
    t.add(dev.dks.rewriter.graph.Nodes.op("Identity", "stats").input("bn:1")
        .type("T", DataType.DT_FLOAT).build());
    RewriteContext ctx = new RewriteContext(GraphView.of(t.graph()), t.variables(),
        List.of("y", "stats"));
    var outcome = new StripNormalizationPass(Mode.REMOVE).run(ctx);
    assertEquals(0, outcome.changes());
    assertTrue(outcome.notes().stream().anyMatch(n -> n.contains("'bn'") && n.contains("'stats'")),
        outcome.notes().toString());
    assertTrue(ctx.graph().contains("bn"));
  }

  @Test
  void foldLeavesANormAfterANonLayerAlone() {
    TestGraph t = new TestGraph(5);
    t.placeholder("x", -1, 6, 6, 3);
    t.normalVariable("k", 0, 0.4, 3, 3, 3, 3);
    t.conv("conv", "x", "k");
    t.op("AddV2", "res", "conv", "x");
    t.uniformVariable("g", 0.5, 1.5, 3);
    t.normalVariable("be", 0, 0.5, 3);
    t.normalVariable("mu", 0, 0.5, 3);
    t.uniformVariable("va", 0.2, 2, 3);
    t.fusedBatchNorm("FusedBatchNormV3", "bn", "res", "g", "be", "mu", "va", 1e-3f, false);
    t.op("Relu", "y", "bn");
    RewriteContext ctx = new RewriteContext(GraphView.of(t.graph()), t.variables(),
        List.of("y"));
    var outcome = new StripNormalizationPass(Mode.FOLD).run(ctx);
    assertEquals(0, outcome.changes());
    assertTrue(outcome.notes().get(0).contains("AddV2 'res'"), outcome.notes().toString());
    assertEquals(t.graph().getNodeCount(), ctx.graph().size());
    assertEquals(t.variables(), ctx.variables());
  }

  @Test
  void twoBatchNormsInARowFoldOneAfterTheOther() {
    TestGraph t = new TestGraph(9);
    t.placeholder("x", -1, 6, 6, 3);
    t.normalVariable("k", 0, 0.4, 3, 3, 3, 4);
    String h = t.conv("conv", "x", "k");
    for (String bn : List.of("bn1", "bn2")) {
      t.uniformVariable(bn + "/g", 0.5, 1.5, 4);
      t.normalVariable(bn + "/b", 0, 0.5, 4);
      t.normalVariable(bn + "/m", 0, 0.5, 4);
      t.uniformVariable(bn + "/v", 0.5, 2, 4);
      h = t.fusedBatchNorm("FusedBatchNormV3", bn, h, bn + "/g", bn + "/b", bn + "/m",
          bn + "/v", 1e-3f, false);
    }
    t.op("Relu", "y", h);
    Model m = t.model("x", IN, "y");
    Pipeline.Result folded = pipeline(Mode.FOLD, true).run(m);
    assertEquals(2, folded.outcomes().get(1).changes(), folded.outcomes().toString());
    assertEquals(Set.of("k", "conv/bn_folded_bias"), folded.model().variables().keySet());
    TensorProto x = t.randomInput(IN);
    double d = maxAbsDiff(run(m, "x", x, "y"), run(folded.model(), "x", x, "y"));
    assertTrue(d < 1e-4, "max abs diff " + d);

    Pipeline.Result removed = pipeline(Mode.REMOVE, true).run(m);
    assertEquals(2, removed.outcomes().get(1).changes());
    assertEquals("conv", GraphView.of(removed.model().graph()).get("y").getInput(0));
  }

  @Test
  void batchNormParametersInResourceVariablesAreReadAndPruned() {
    TestGraph plain = convBn("FusedBatchNormV3", false, false);
    // the same graph with the BN parameters as VarHandleOp + ReadVariableOp
    GraphView g = GraphView.of(plain.graph());
    Map<String, TensorProto> vars = new java.util.LinkedHashMap<>(plain.variables());
    for (String p : List.of("bn/gamma", "bn/beta", "bn/mean", "bn/var")) {
      g.put(dev.dks.rewriter.graph.Nodes.op("VarHandleOp", p).type("dtype", DataType.DT_FLOAT)
          .attr("shape", TestGraph.shape(4)).attr("container", "").attr("shared_name", p)
          .build());
      g.add(dev.dks.rewriter.graph.Nodes.op("ReadVariableOp", p + "/Read").input(p)
          .type("dtype", DataType.DT_FLOAT).build());
      g.replaceUses(dev.dks.rewriter.graph.TensorName.of(p),
          dev.dks.rewriter.graph.TensorName.of(p + "/Read"), Set.of(p + "/Read"));
    }
    RewriteContext ctx = new RewriteContext(g, vars, List.of("y"));
    var outcome = new StripNormalizationPass(Mode.FOLD).run(ctx);
    assertEquals(1, outcome.changes(), outcome.notes().toString());
    assertEquals(Set.of("k", "conv/bn_folded_bias"), ctx.variables().keySet());
    assertFalse(hasAny(ctx.graph().toGraphDef(), Set.of("VarHandleOp", "ReadVariableOp")));
    Model folded = TestGraph.model(ctx.graph().toGraphDef(), ctx.variables(), "x", IN, "y");
    TestGraph.verifyAccepted(folded);
    TensorProto x = plain.randomInput(IN);
    double d = maxAbsDiff(run(plain.model("x", IN, "y"), "x", x, "y"),
        run(folded, "x", x, "y"));
    assertTrue(d < 1e-4, "max abs diff " + d);
  }
}
