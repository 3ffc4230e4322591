package dev.dks.rewriter.passes.dks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.analysis.MergeSite;
import dev.dks.rewriter.analysis.NetworkAnalysis;
import dev.dks.rewriter.analysis.StructureAnalyzer;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.testing.DenseNets;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.pipeline.StructuralVerifier;
import dev.dks.rewriter.pipeline.TensorFlowVerifier;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.activation.ShapingParams;
import dev.dks.solver.network.Architectures;
import dev.dks.solver.network.NetworkMaps;
import dev.dks.solver.solve.DksSolver;
import dev.dks.solver.solve.DksTargets;
import dev.dks.solver.solve.Method;
import dev.dks.solver.solve.TatTargets;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/** The DKS passes on a hand-built residual MLP, run through the verified pipeline. */
class DksPassesTest {
  private static final int BLOCKS = 3;

  private static Model residualMlp() {
    DenseNets n = new DenseNets();
    TensorName h = n.dense(TensorName.of("input"));
    for (int b = 0; b < BLOCKS; b++) {
      TensorName r = n.act("relu", n.dense(n.act("relu", n.dense(h))));
      h = n.add("block" + b + "/add", r, h);
    }
    return n.model(n.dense(h));
  }

  private static Pipeline.Builder verified() {
    return Pipeline.builder().verifier(new StructuralVerifier())
        .verifier(new TensorFlowVerifier(true));
  }

  private static float[] run(Model m) {
    float[] x = new float[4 * DenseNets.WIDTH];
    Random r = new Random(7);
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextGaussian();
    }
    try (ModelSession s = new ModelSession(m)) {
      TensorProto in = TensorProtos.ofFloats(new long[] {4, DenseNets.WIDTH}, x);
      return TensorProtos.floats(s.run(Map.of("input", in), List.of("output")).get("output"));
    }
  }

  @Test
  void removingSkipsLeavesAPlainChainThatRuns() {
    Model m = verified().add(new SkipConnectionPass(0)).build().run(residualMlp()).model();
    NetworkAnalysis a = StructureAnalyzer.analyze(GraphView.of(m.graph()), List.of("input"),
        List.of("output"));
    assertTrue(a.merges().isEmpty());
    assertEquals(2 * BLOCKS, a.dag().depth());
    assertEquals(2 * BLOCKS + 2, a.layers().size());
    for (float v : run(m)) {
      assertTrue(Float.isFinite(v));
    }
  }

  @Test
  void normalizedSkipsCarryTheRequestedWeights() {
    double w = 0.6;
    Model m = verified().add(new SkipConnectionPass(w)).build().run(residualMlp()).model();
    NetworkAnalysis a = StructureAnalyzer.analyze(GraphView.of(m.graph()), List.of("input"),
        List.of("output"));
    assertEquals(BLOCKS, a.residualMerges().size());
    for (MergeSite s : a.residualMerges()) {
      assertEquals(0.8, s.residualWeight(), 1e-7);
      assertEquals(0.6, s.shortcutWeight(), 1e-7);
      assertTrue(s.isNormalized());
    }
    // block slope: 0.36 s + 0.64 x^2 s, against the closed form
    NetworkMaps maps = NetworkMaps.of(a.structure());
    double x = 1.2;
    double block = 0.36 + 0.64 * x * x;
    // the weights are float32 constants: 1e-6 relative
    assertEquals(Math.max(Math.pow(block, BLOCKS), x * x), maps.maxSlope(x), 1e-6);
  }

  /**
   * After skip removal the net is a chain of 2*BLOCKS relus; DKS maps relu to softplus and the
   * emitted constants must be dks-solver's answer for Architectures.plainChain(2*BLOCKS).
   */
  @Test
  void shapedActivationsCarryTheSolverParametersForTheDerivedStructure() {
    Model m = verified().add(new SkipConnectionPass(0))
        .add(new ShapeActivationsPass(Method.DKS, ActivationPolicy.defaults(Method.DKS),
            DksTargets.defaults(), TatTargets.defaults()))
        .add(new DksInitPass(42)).build().run(residualMlp()).model();
    ShapingParams expected = DksSolver.solve(List.of(Activations.byName("softplus")),
        NetworkMaps.of(Architectures.plainChain(2 * BLOCKS)), DksTargets.defaults())
        .get("softplus").params();
    GraphView g = GraphView.of(m.graph());
    int softplus = 0;
    for (NodeDef n : g.nodes()) {
      assertTrue(!n.getOp().equals("Relu"), "a Relu is left: " + n.getName());
      if (n.getOp().equals("Softplus")) {
        softplus++;
      }
      if (n.getName().endsWith("/input_scale/value")) {
        assertEquals(expected.inputScale(), n.getAttrOrThrow("value").getTensor().getFloatVal(0),
            1e-6 * expected.inputScale());
      }
      if (n.getName().endsWith("/output_scale/value")) {
        assertEquals(expected.outputScale(),
            n.getAttrOrThrow("value").getTensor().getFloatVal(0), 1e-6 * expected.outputScale());
      }
    }
    assertEquals(2 * BLOCKS, softplus);
    // dense kernels are orthogonal after dks-init: K^T K = I
    float[] k = TensorProtos.floats(m.variables().get("dense2/kernel"));
    int w = DenseNets.WIDTH;
    for (int i = 0; i < w; i++) {
      for (int j = 0; j < w; j++) {
        double s = 0;
        for (int r = 0; r < w; r++) {
          s += k[r * w + i] * k[r * w + j];
        }
        assertEquals(i == j ? 1.0 : 0.0, s, 1e-5);
      }
    }
    float[] bias = TensorProtos.floats(m.variables().get("dense2/bias"));
    for (float b : bias) {
      assertEquals(0f, b);
    }
    for (float v : run(m)) {
      assertTrue(Float.isFinite(v));
    }
  }
}
