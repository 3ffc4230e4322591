package dev.dks.rewriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.analysis.MergeSite;
import dev.dks.rewriter.analysis.NetworkAnalysis;
import dev.dks.rewriter.analysis.StructureAnalyzer;
import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.kernel.KernelCheck;
import dev.dks.rewriter.kernel.KernelReport;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.network.Architectures;
import dev.dks.solver.network.NetworkMaps;
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
 * declares for the rewritten network, the result runs, and its kernel check passes.
 */
class DksRewriteTest {
  private static final Set<String> NORM_OPS =
      Set.of("FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3");

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
    RewriteOptions o = RewriteOptions.defaults().withShortcutWeight(0.8).withMethod(Method.DKS)
        .withActivation("tanh");
    Pipeline.Result r = DksRewrite.pipeline(o).build().run(bnResnet(18));
    NetworkAnalysis a = StructureAnalyzer.analyze(GraphView.of(r.model().graph()),
        r.model().inputNodes(), r.model().outputNodes());
    assertEquals(8, a.residualMerges().size());
    for (MergeSite m : a.residualMerges()) {
      assertEquals(0.8, m.shortcutWeight(), 1e-7);
      assertEquals(0.6, m.residualWeight(), 1e-7);
    }
    ShapingSolution sol = r.fact(ShapingSolution.class).orElseThrow();
    // base width 16 (16..128 channels): the finite-width error is about four times the one of
    // the width-256 acceptance test, so the tolerance is widened accordingly. Averaged over the
    // automatic weight draws the output c is still 0.047 above the prediction at input c 0
    // (0.229 vs 0.182): a systematic error that appears at the first normalized merge (depth 3:
    // 0.265 measured vs 0.235 predicted, while depth 2 agrees), not explained yet (issue 12)
    KernelCheck.Options narrow = new KernelCheck.Options(new double[] {0.0, 0.5, 0.9}, 128, 1234,
        0.1, 0.2);
    KernelReport k = KernelCheck.run(r.model(), sol, narrow);
    assertTrue(k.passed(), k.toText());
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
