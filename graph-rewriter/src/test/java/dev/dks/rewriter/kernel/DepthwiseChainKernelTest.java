package dev.dks.rewriter.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.passes.dks.ActivationPolicy;
import dev.dks.rewriter.passes.dks.DksInitPass;
import dev.dks.rewriter.passes.dks.ShapeActivationsPass;
import dev.dks.rewriter.passes.norm.TestGraph;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.network.Architectures;
import dev.dks.solver.network.NetworkMaps;
import dev.dks.solver.solve.DksTargets;
import dev.dks.solver.solve.Method;
import dev.dks.solver.solve.ShapingSolution;
import dev.dks.solver.solve.TatSolver;
import dev.dks.solver.solve.TatTargets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * MobileNet's {@code conv -> act -> depthwise -> act} pattern, TAT-shaped (leaky ReLU, 4 activation
 * layers, eta 0.45) and Delta-initialized: the depthwise layer multiplies each channel by a random
 * sign, so the second activation's input is the first one's output, not a Gaussian. The c measured
 * through TensorFlow after each depthwise pair (input c 0 and 0.5, 16 weight draws, width 96) must
 * match the closed form of the sign-averaged pair, {@code c + K (sqrt(1 - c^2) - c arccos c)} with
 * {@code K = (1 - a^2)^2 / (pi (1 + a^2)^2)} applied to the c at the pair's input (derived by hand
 * in {@code SignAveragedMaps}), within 0.02; negative control: at input c 0, the composition of
 * the two layers' own maps, which the check used before, is further than 0.03 from the measurement.
 * The rewrite's solve uses the same chain maps: the shaped network's c at input c 0 is eta under
 * them (the closed form above, and the check's prediction by quadrature), while the slope solved
 * with every layer taken as Gaussian misses eta by more than 0.01.
 */
class DepthwiseChainKernelTest {
  private static final int WIDTH = 96;
  private static final TatTargets TARGETS = new TatTargets(0.45, 0.3);

  private static double trelu(double c, double a) {
    double k = (1 - a) * (1 - a) / (Math.PI * (1 + a * a));
    return c + k * (Math.sqrt(1 - c * c) - c * Math.acos(c));
  }

  private static double pair(double c, double a) {
    double k = (1 - a * a) * (1 - a * a) / (Math.PI * (1 + a * a) * (1 + a * a));
    return c + k * (Math.sqrt(1 - c * c) - c * Math.acos(c));
  }

  private static Pipeline.Result network() {
    TestGraph t = new TestGraph(7);
    String x = t.placeholder("input", -1, 4, 4, 16);
    int in = 16;
    for (int b = 0; b < 2; b++) {
      String k = t.normalVariable("conv" + b + "/kernel", 0, 0.1, 1, 1, in, WIDTH);
      x = t.op("Relu", "conv" + b + "/relu", t.conv("conv" + b + "/Conv2D", x, k));
      String d = t.normalVariable("dw" + b + "/kernel", 0, 0.1, 3, 3, WIDTH, 1);
      x = t.op("Relu", "dw" + b + "/relu", t.depthwise("dw" + b + "/depthwise", x, d));
      in = WIDTH;
    }
    String k = t.normalVariable("out/kernel", 0, 0.1, 1, 1, WIDTH, WIDTH);
    String out = t.conv("out/Conv2D", x, k);
    Model raw = t.model("input", new long[] {-1, 4, 4, 16}, out);
    return Pipeline.builder()
        .add(new ShapeActivationsPass(Method.TAT,
            ActivationPolicy.defaults(Method.TAT).all("leaky_relu"), DksTargets.defaults(),
            TARGETS))
        .add(new DksInitPass(11)).build().run(raw);
  }

  @Test
  void depthwisePairsFollowTheSignAveragedMap() {
    Pipeline.Result rewritten = network();
    ShapingSolution sol = rewritten.fact(ShapingSolution.class).orElseThrow();
    double a = sol.get("leaky_relu").params().negativeSlope().getAsDouble();
    KernelReport r = KernelCheck.run(rewritten.model(), sol,
        new KernelCheck.Options(new double[] {0.0, 0.5}, 256, 99, 0.03, 0.5, 16));
    // the solve's target under the chains' maps: the last pair's closed form, applied twice
    // from input c 0, is eta; the slope solved for 4 layers taken as Gaussian misses it
    assertEquals(TARGETS.eta(), pair(pair(0.0, a), a), 1e-7);
    double gaussian = TatSolver.solve(List.of(Activations.byName("leaky_relu")),
        NetworkMaps.of(Architectures.plainChain(4)), TARGETS).get("leaky_relu").params()
        .negativeSlope().getAsDouble();
    assertTrue(TARGETS.eta() - pair(pair(0.0, gaussian), gaussian) > 0.01,
        "slope " + gaussian + " gives " + pair(pair(0.0, gaussian), gaussian));
    KernelMeasurement judged = r.rows().stream()
        .filter(m -> m.tensor().equals(r.judgedTensor()) && m.inputC() == 0.0).findFirst()
        .orElseThrow();
    // the check predicts at the network's own widths (FiniteWidthPairs): within 0.01 of the
    // infinite-width target at width 96
    assertEquals(TARGETS.eta(), judged.predictedC(), 0.01, r.toText());
    int checked = 0;
    for (KernelMeasurement m : r.rows()) {
      if (!m.tensor().startsWith("dw") || m.depth() == 0) {
        continue;
      }
      // the c at the pair's input: the measured c at the depthwise pair's first layer's input
      double start = r.rows().stream()
          .filter(s -> s.inputC() == m.inputC() && s.depth() == m.depth() - 2)
          .mapToDouble(KernelMeasurement::measuredC).findFirst().orElse(m.inputC());
      double closed = pair(start, a);
      double composed = trelu(trelu(start, a), a);
      String what = m.tensor() + " c_in " + m.inputC() + " (slope " + a + "): measured "
          + m.measuredC() + ", pair " + closed + ", composed " + composed + "\n" + r.toText();
      assertEquals(closed, m.measuredC(), 0.02, what);
      if (m.inputC() == 0.0) {
        assertTrue(Math.abs(composed - m.measuredC()) > 0.03, what);
      }
      checked++;
    }
    assertEquals(4, checked, r.toText());
  }
}
