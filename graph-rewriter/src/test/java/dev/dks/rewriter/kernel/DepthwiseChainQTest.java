package dev.dks.rewriter.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.passes.dks.ActivationPolicy;
import dev.dks.rewriter.passes.dks.DksInitPass;
import dev.dks.rewriter.passes.dks.ShapeActivationsPass;
import dev.dks.rewriter.passes.norm.TestGraph;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.solver.activation.Activation;
import dev.dks.solver.maps.SignAveragedMaps;
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
 * The q a depthwise chain of smooth DKS activations leaves is carried to the later layers. A
 * Delta-initialized depthwise layer does not mix channels, so the activation after it does not see
 * a Gaussian input and its output's mean square is not 1 (DKS softsign: about 0.92 after
 * {@code conv -> act -> dw -> act -> dw -> act}); the convolutions after it preserve q and the
 * shaped activations map it by their Q maps (Q(1) = Q'(1) = 1, so about unchanged). The
 * independent number is q measured through TensorFlow (32 weight draws, width 128): the
 * predicted q must be within 0.025 of it at every layer (largest error 0.018, at the last layer,
 * where the measurement is 0.918-0.926 against 0.908 predicted); negative control: from the
 * second depthwise layer on the measurement is more than 0.05 below 1, the q the check predicted
 * before. About 15 s of CPU.
 */
class DepthwiseChainQTest {
  private static final int WIDTH = 128;

  private static Pipeline.Result shaped() {
    TestGraph t = new TestGraph(7);
    String x = t.placeholder("input", -1, 4, 4, 16);
    String k0 = t.normalVariable("conv0/kernel", 0, 0.1, 1, 1, 16, WIDTH);
    x = t.op("Relu", "conv0/relu", t.conv("conv0/Conv2D", x, k0));
    for (int b = 0; b < 2; b++) {
      String d = t.normalVariable("dw" + b + "/kernel", 0, 0.1, 3, 3, WIDTH, 1);
      x = t.op("Relu", "dw" + b + "/relu", t.depthwise("dw" + b + "/depthwise", x, d));
    }
    for (int b = 1; b < 3; b++) {
      String k = t.normalVariable("conv" + b + "/kernel", 0, 0.1, 1, 1, WIDTH, WIDTH);
      x = t.op("Relu", "conv" + b + "/relu", t.conv("conv" + b + "/Conv2D", x, k));
    }
    String k = t.normalVariable("out/kernel", 0, 0.1, 1, 1, WIDTH, WIDTH);
    String out = t.conv("out/Conv2D", x, k);
    Model raw = t.model("input", new long[] {-1, 4, 4, 16}, out);
    return Pipeline.builder()
        .add(new ShapeActivationsPass(Method.DKS,
            ActivationPolicy.defaults(Method.DKS).all("softsign"), DksTargets.defaults(),
            TatTargets.defaults()))
        .add(new DksInitPass(11)).build().run(raw);
  }

  @Test
  void chainQIsCarriedToTheLaterLayers() {
    Pipeline.Result res = shaped();
    ShapingSolution sol = res.fact(ShapingSolution.class).orElseThrow();
    KernelReport r = KernelCheck.run(res.model(), sol,
        new KernelCheck.Options(new double[] {0.0, 0.5}, 512, 99, 0.03, 0.5, 32));
    System.out.println(r.toText());
    int offOne = 0;
    for (KernelMeasurement m : r.rows()) {
      String what = m.tensor() + " c_in " + m.inputC() + "\n" + r.toText();
      assertEquals(m.measuredQ(), m.predictedQ(), 0.025, what);
      if (m.depth() >= 3) {
        assertTrue(1 - m.measuredQ() > 0.05, "control: " + what);
        offOne++;
      }
    }
    assertEquals(8, offOne, r.toText());
  }

  @Test
  void leakyReluChainsKeepAnyQ() {
    // TAT's leaky ReLU is positively homogeneous with Q(1) = 1 and so is each sign pattern of a
    // pair: Q(q) = q for every q (a closed form of the new Q map at q != 1)
    Activation a = TatSolver.solve(List.of(dev.dks.solver.activation.Activations.byName(
        "leaky_relu")), NetworkMaps.of(Architectures.plainChain(4)), new TatTargets(0.6, 0.3))
        .get("leaky_relu").transformed();
    SignAveragedMaps m = SignAveragedMaps.of(List.of(a, a));
    assertEquals(0.7, m.q(0.7), 1e-9);
    assertEquals(2.5, m.q(2.5), 1e-9);
    assertEquals(m.q1(), m.q(1.0), 1e-12);
  }
}
