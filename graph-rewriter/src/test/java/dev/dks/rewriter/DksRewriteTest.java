package dev.dks.rewriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.analysis.MergeSite;
import dev.dks.rewriter.analysis.NetworkAnalysis;
import dev.dks.rewriter.analysis.StructureAnalyzer;
import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.kernel.KernelCheck;
import dev.dks.rewriter.kernel.KernelMeasurement;
import dev.dks.rewriter.kernel.KernelReport;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.maps.LocalMaps;
import dev.dks.solver.network.Architectures;
import dev.dks.solver.network.NetworkMaps;
import dev.dks.solver.network.ScalarSemantics;
import dev.dks.solver.network.Structure;
import dev.dks.solver.solve.DksTargets;
import dev.dks.solver.solve.Method;
import dev.dks.solver.solve.ShapingSolution;
import dev.dks.solver.solve.TatSolver;
import dev.dks.solver.solve.TatTargets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.NodeDef;

/**
 * The whole rewrite on built BN-ResNets: no normalization and no residual merge is left (or only
 * normalized sums), the shaped constants are dks-solver's answer for the structure the builder
 * declares for the rewritten network, the result runs, and its kernel check passes (DKS with
 * normalized skips, TAT without) while the same check fails on a model shaped for another zeta,
 * one with a wrong leaky-ReLU slope and one with a layer dropped, by the margins stated at
 * {@link #C_TOLERANCE}.
 */
class DksRewriteTest {
  private static final Set<String> NORM_OPS =
      Set.of("FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3");

  /**
   * The kernel checks' margins. Errors at the judged tensor of the ResNet-18 below (base width
   * 64, so 64..512 channels; 128 pairs per input c; 64 input features), measured with builder,
   * rewrite and check seeds 0, 1, 2: right DKS rewrite c error 0.003, 0.013, 0.028; shaped for
   * zeta = 4 but checked as zeta = 1.5: 0.172, 0.155, 0.183; right TAT rewrite 0.027, 0.003,
   * 0.002; TAT slope for eta = 0.6 checked as eta = 0.9: 0.258, 0.315, 0.282. A tolerance of 0.06
   * separates them by a factor above 2 on both sides. (With 3 input features, as a 32x32x3
   * image, the right error is 0.088 and the zeta-4 one 0.093: a few features on the unit sphere
   * project far from Gaussian, a bias no number of pairs removes; the spatial size does not
   * matter, since the check feeds the same features at every location.) q is not what separates
   * right from wrong here (q errors 0.02..0.10 for DKS, up to 0.38 for leaky ReLU at this width);
   * it keeps the default tolerance 0.5, whose negative control is KernelCheckTest's scaled kernel.
   */
  private static final double C_TOLERANCE = 0.06;
  /**
   * Predicted vs declared-architecture c: 1e-9 for the right DKS and TAT models, 0.004 with one
   * layer of the last residual branch dropped; float32 inputs, so 1e-5.
   */
  private static final double STRUCTURE_TOLERANCE = 1e-5;
  private static final int FEATURES = 64;
  private static final KernelCheck.Options CHECK = new KernelCheck.Options(
      new double[] {0.0, 0.5, 0.9}, 128, 1234, C_TOLERANCE, 0.5);
  private static final RewriteOptions DKS_TANH = RewriteOptions.defaults().withShortcutWeight(0.8)
      .withMethod(Method.DKS).withActivation("tanh");

  /** BN-ResNet-18 v2 for the kernel checks: base width 64, 4x4 locations of 64 features. */
  private static Model kernelResnet() {
    return ModelBuilder.build(ArchitectureSpec.builder(Architecture.RESNET, 18).width(64)
        .batchNorm(true).activation("relu").input("4x4x" + FEATURES).build()).model();
  }

  private static Pipeline.Result dksTanh;

  /** The DKS tanh rewrite of {@link #kernelResnet()} (shortcut weight 0.8), made once. */
  private static synchronized Pipeline.Result dksTanhRewrite() {
    if (dksTanh == null) {
      dksTanh = DksRewrite.pipeline(DKS_TANH).build().run(kernelResnet());
    }
    return dksTanh;
  }

  private static Model bnResnet(int depth) {
    return ModelBuilder.build(ArchitectureSpec.builder(Architecture.RESNET, depth).width(16)
        .batchNorm(true).activation("relu").input("32x32x3").build()).model();
  }

  @Test
  void tatRewriteOfBnResnet50RemovesNormsAndSkipsAndUsesTheSolverSlope() {
    Pipeline.Result r = DksRewrite.pipeline(RewriteOptions.defaults()).build().run(bnResnet(50));
    GraphView g = GraphView.of(r.model().graph());
    double s = TatSolver.solve(List.of(Activations.byName("leaky_relu")),
        NetworkMaps.of(Architectures.resnet(50, 0.0, true)), TatTargets.defaults())
        .get("leaky_relu").params().negativeSlope().getAsDouble();
    int leaky = 0;
    for (NodeDef n : g.nodes()) {
      assertTrue(!NORM_OPS.contains(n.getOp()), "normalization left: " + n.getName());
      assertTrue(!n.getOp().equals("Relu"), "relu left: " + n.getName());
      if (n.getOp().equals("LeakyRelu")) {
        leaky++;
        assertEquals((float) s, n.getAttrOrThrow("alpha").getF(), 0f);
      }
    }
    assertEquals(49, leaky); // 16 bottleneck blocks x 3 + the final activation
    NetworkAnalysis a = StructureAnalyzer.analyze(g, r.model().inputNodes(),
        r.model().outputNodes());
    assertTrue(a.merges().isEmpty());
    float[] y = runOnes(r.model());
    for (float v : y) {
      assertTrue(Float.isFinite(v));
    }
  }

  @Test
  void normalizedSkipsKeepOneMergePerBlockAndPassTheKernelCheck() {
    Pipeline.Result r = dksTanhRewrite();
    NetworkAnalysis a = StructureAnalyzer.analyze(GraphView.of(r.model().graph()),
        r.model().inputNodes(), r.model().outputNodes());
    assertEquals(8, a.residualMerges().size());
    for (MergeSite m : a.residualMerges()) {
      assertEquals(0.8, m.shortcutWeight(), 1e-7);
      assertEquals(0.6, m.residualWeight(), 1e-7);
    }
    ShapingSolution sol = r.fact(ShapingSolution.class).orElseThrow();
    Verdict v = kernelVerdict(r.model(), sol, "tanh", 0.8);
    assertTrue(v.passed(), v.text());
  }

  /** The same check fails on a model shaped for zeta = 4 (checked as zeta = 1.5). */
  @Test
  void dksModelShapedForAnotherZetaFailsTheKernelCheck() {
    ShapingSolution sol = dksTanhRewrite().fact(ShapingSolution.class).orElseThrow();
    Model zeta4 = DksRewrite.pipeline(DKS_TANH.withTargets(DksTargets.ofZeta(4),
        TatTargets.defaults())).build().run(kernelResnet()).model();
    Verdict v = kernelVerdict(zeta4, sol, "tanh", 0.8);
    assertFalse(v.passed(), v.text());
    assertTrue(v.cError() > 2 * C_TOLERANCE, "the wrong zeta must miss by a clear margin: "
        + v.text());
  }

  /**
   * The same check fails on the right model with one layer (activation + conv) of the last
   * residual branch dropped: the kernel it measures still follows the structure the analysis
   * derives from the mutilated graph, so the prediction check against the declared ResNet-18
   * catches it (0.004 off, 400 times its tolerance). DKS keeps a deep network's kernel close to
   * a slightly shallower one's, so the measured c moves by only that much, below the
   * finite-width noise: the measurement alone cannot see a dropped layer.
   */
  @Test
  void droppedLayerFailsTheKernelCheck() {
    Pipeline.Result r = dksTanhRewrite();
    ShapingSolution sol = r.fact(ShapingSolution.class).orElseThrow();
    Verdict v = kernelVerdict(dropLastResidualLayer(r.model()), sol, "tanh", 0.8);
    assertFalse(v.passed(), v.text());
    assertTrue(v.structureError() > 100 * STRUCTURE_TOLERANCE, v.text());
  }

  /** TAT (leaky ReLU, skips removed) passes the check; a wrong slope fails it. */
  @Test
  void tatRewritePassesTheKernelCheckAndAWrongSlopeFails() {
    Pipeline.Result r = DksRewrite.pipeline(RewriteOptions.defaults()).build()
        .run(kernelResnet());
    ShapingSolution sol = r.fact(ShapingSolution.class).orElseThrow();
    Verdict right = kernelVerdict(r.model(), sol, "leaky_relu", 0.0);
    assertTrue(right.passed(), right.text());

    // the slope TAT picks for eta = 0.6 instead of 0.9
    Pipeline.Result wrong = DksRewrite.pipeline(RewriteOptions.defaults().withTargets(
        DksTargets.defaults(), new TatTargets(0.6, TatTargets.DEFAULT_TAU))).build()
        .run(kernelResnet());
    double s = sol.get("leaky_relu").params().negativeSlope().getAsDouble();
    double ws = wrong.fact(ShapingSolution.class).orElseThrow().get("leaky_relu").params()
        .negativeSlope().getAsDouble();
    assertTrue(Math.abs(s - ws) > 0.05, s + " vs " + ws);
    Verdict v = kernelVerdict(wrong.model(), sol, "leaky_relu", 0.0);
    assertFalse(v.passed(), v.text());
    assertTrue(v.cError() > 2 * C_TOLERANCE, "the wrong slope must miss by a clear margin: "
        + v.text());
  }

  /** The check's verdict with its two parts' worst errors. */
  private record Verdict(boolean passed, double cError, double structureError, String text) {}

  /**
   * The kernel check of a rewritten {@link #kernelResnet()}, in two parts that must both hold:
   * (1) at the judged tensor the measured c is within {@link #C_TOLERANCE} of the predicted c and
   * q within 0.5 ({@link KernelCheck}, whose prediction simulates the network at its own widths);
   * (2) the structure the analysis reads from the graph, at infinite width, gives the c dks-solver
   * gives for the declared architecture ({@code Architectures.resnet(18, w, v2)}), both with the
   * solution's local C map and started from the c the input normalization gives by hand
   * (appending a 1 to two vectors of F features with mean square 1 and correlation c gives (F c +
   * 1) / (F + 1)), to {@link #STRUCTURE_TOLERANCE}, so a model whose structure differs from the
   * declared one fails.
   */
  private static Verdict kernelVerdict(Model m, ShapingSolution sol, String kind, double w) {
    KernelReport k = KernelCheck.run(m, sol, CHECK);
    Structure declared = ((Structure.Max) Architectures.resnet(18, w, true)).candidates().get(0);
    LocalMaps local = LocalMaps.of(sol.get(kind).transformed());
    double structureError = 0;
    double cError = 0;
    StringBuilder b = new StringBuilder(k.toText());
    Structure analysed = StructureAnalyzer.analyze(GraphView.of(m.graph()), m.inputNodes(),
        m.outputNodes()).dag();
    for (KernelMeasurement row : k.judgedRows()) {
      double c0 = (FEATURES * row.inputC() + 1) / (FEATURES + 1);
      double want = declared.propagate(c0, new ScalarSemantics(local::c));
      double got = analysed.propagate(c0, new ScalarSemantics(local::c));
      structureError = Math.max(structureError, Math.abs(want - got));
      cError = Math.max(cError, row.cError());
      b.append(String.format("c_in %.1f: declared-architecture c %.6f, analysed-structure c "
          + "%.6f, predicted %.6f, measured %.6f%n", row.inputC(), want, got, row.predictedC(),
          row.measuredC()));
    }
    boolean passed = k.passed() && structureError <= STRUCTURE_TOLERANCE;
    return new Verdict(passed, cError, structureError, b.toString());
  }

  /**
   * The model with the second layer of the last residual branch dropped: the merge's residual
   * input reads the first conv's output instead of activation + second conv.
   */
  private static Model dropLastResidualLayer(Model m) {
    GraphView g = GraphView.of(m.graph());
    NetworkAnalysis a = StructureAnalyzer.analyze(g, m.inputNodes(), m.outputNodes());
    MergeSite last = a.residualMerges().get(a.residualMerges().size() - 1);
    String conv = last.residual().node();
    while (!g.get(conv).getOp().equals("Conv2D")) {
      conv = TensorName.parse(g.get(conv).getInput(0)).node();
    }
    // back through the shaped activation's ops to the first conv of the branch
    String first = TensorName.parse(g.get(conv).getInput(0)).node();
    for (int hops = 0; !g.get(first).getOp().equals("Conv2D"); hops++) {
      assertTrue(hops < 10, "no conv before " + conv);
      first = TensorName.parse(g.get(first).getInput(0)).node();
    }
    g.replaceUses(TensorName.of(conv), TensorName.of(first), List.of());
    return m.with(g.toGraphDef(), m.variables());
  }

  private static float[] runOnes(Model m) {
    float[] x = new float[2 * 32 * 32 * 3];
    java.util.Arrays.fill(x, 0.5f);
    try (ModelSession s = new ModelSession(m)) {
      String in = m.signatures().get(0).inputs().values().iterator().next().tensor().toString();
      String out = m.outputNodes().get(0);
      return TensorProtos.floats(s.run(Map.of(in, TensorProtos.ofFloats(
          new long[] {2, 32, 32, 3}, x)), List.of(out)).get(out));
    }
  }
}
