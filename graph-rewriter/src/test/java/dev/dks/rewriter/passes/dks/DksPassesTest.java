package dev.dks.rewriter.passes.dks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.analysis.MergeSite;
import dev.dks.rewriter.analysis.NetworkAnalysis;
import dev.dks.rewriter.analysis.StructureAnalyzer;
import dev.dks.rewriter.builder.Reference;
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
    return residualMlpOf(new DenseNets());
  }

  private static Model residualMlpOf(DenseNets n) {
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

  /**
   * Without skips the MLP is the plain chain of its residual branches: its output (random inputs,
   * non-zero biases) equals the hand forward pass with shortcut weight 0 to 1e-5, and misses the
   * one that keeps the shortcuts by more than 100 times that.
   */
  @Test
  void removingSkipsLeavesThePlainChainOfTheBranches() {
    DenseNets n = new DenseNets();
    Model built = residualMlpOf(n);
    n.randomBiases(0.5, 6);
    Model m = verified().add(new SkipConnectionPass(0)).build()
        .run(built.with(built.graph(), n.vars)).model();
    NetworkAnalysis a = StructureAnalyzer.analyze(GraphView.of(m.graph()), List.of("input"),
        List.of("output"));
    assertTrue(a.merges().isEmpty());
    assertEquals(2 * BLOCKS, a.dag().depth());
    assertEquals(2 * BLOCKS + 2, a.layers().size());
    TensorProto x = DenseNets.gaussianInput(4, DenseNets.WIDTH, 10);
    float[] got = DenseNets.run(m, x);
    Reference ref = new Reference(m.variables());
    double chain = maxDiff(got, handForward(ref, x, 1, 0));
    assertTrue(chain <= 1e-5, "vs the hand computation without shortcuts: " + chain);
    double kept = maxDiff(got, handForward(ref, x, 1, 1));
    assertTrue(kept > 1e-3, "negative control: the shortcuts kept must miss: " + kept);
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
   * The normalized sums compute {@code sqrt(1 - w^2) * residual + w * shortcut}: the rewritten
   * MLP's output (random inputs, random non-zero biases) equals a double-precision forward pass
   * written by hand from that formula ({@link Reference}), to 1e-5 (float32 through 8 layers);
   * the same pass with the two weights swapped, or with the plain sum left in place, misses by
   * more than 100 times that.
   */
  @Test
  void normalizedSkipsComputeTheWeightedSum() {
    double w = 0.6;
    DenseNets n = new DenseNets();
    Model built = residualMlpOf(n);
    n.randomBiases(0.5, 5);
    Model sourceModel = built.with(built.graph(), n.vars);
    Model m = verified().add(new SkipConnectionPass(w)).build().run(sourceModel).model();
    TensorProto x = DenseNets.gaussianInput(4, DenseNets.WIDTH, 9);
    float[] got = DenseNets.run(m, x);
    Reference ref = new Reference(m.variables());
    double tolerance = 1e-5;
    double right = maxDiff(got, handForward(ref, x, Math.sqrt(1 - w * w), w));
    assertTrue(right <= tolerance, "vs the hand computation: " + right);
    double swapped = maxDiff(got, handForward(ref, x, w, Math.sqrt(1 - w * w)));
    double plain = maxDiff(got, handForward(ref, x, 1, 1));
    assertTrue(swapped > 100 * tolerance && plain > 100 * tolerance,
        "negative controls must miss: swapped weights " + swapped + ", plain sum " + plain);
    double source = maxDiff(DenseNets.run(sourceModel, x), handForward(ref, x, 1, 1));
    assertTrue(source <= tolerance, "the hand computation reproduces the source: " + source);
  }

  /** dense1, then per block h = r * relu(dense(relu(dense(h)))) + s * h, then the last dense. */
  private static double[] handForward(Reference ref, TensorProto x, double r, double s) {
    float[] xf = TensorProtos.floats(x);
    int width = DenseNets.WIDTH;
    double[][] h = new double[xf.length / width][width];
    for (int i = 0; i < xf.length; i++) {
      h[i / width][i % width] = xf[i];
    }
    h = ref.dense(h, "dense1");
    for (int b = 0; b < BLOCKS; b++) {
      double[][] a = relu(ref.dense(h, "dense" + (2 + 2 * b)));
      double[][] res = relu(ref.dense(a, "dense" + (3 + 2 * b)));
      for (int i = 0; i < h.length; i++) {
        for (int j = 0; j < width; j++) {
          h[i][j] = r * res[i][j] + s * h[i][j];
        }
      }
    }
    double[][] out = ref.dense(h, "dense" + (2 + 2 * BLOCKS));
    double[] flat = new double[out.length * width];
    for (int i = 0; i < out.length; i++) {
      System.arraycopy(out[i], 0, flat, i * width, width);
    }
    return flat;
  }

  private static double[][] relu(double[][] v) {
    double[][] y = new double[v.length][];
    for (int i = 0; i < v.length; i++) {
      y[i] = v[i].clone();
      for (int j = 0; j < y[i].length; j++) {
        y[i][j] = Math.max(0, y[i][j]);
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
