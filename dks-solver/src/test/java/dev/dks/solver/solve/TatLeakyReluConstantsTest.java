package dev.dks.solver.solve;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dks.solver.activation.Activations;
import dev.dks.solver.network.Architectures;
import dev.dks.solver.network.NetworkMaps;
import dev.dks.solver.network.ReferenceM;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * TReLU constants hard-coded in kfac-jax's TAT ImageNet example (examples/lrelunet101_imagenet),
 * eta = 0.9, vanilla v2 bottleneck ResNets; the reference reproduces them bit for bit.
 */
class TatLeakyReluConstantsTest {
  private static ShapedActivation solve(int depth) {
    return ShapingSolver.solve(Method.TAT, List.of(Activations.byName("leaky_relu")),
        NetworkMaps.of(Architectures.resnet(depth, 0.0, true)), DksTargets.defaults(),
        TatTargets.defaults()).get("leaky_relu");
  }

  @ParameterizedTest(name = "ResNet-{0}")
  @CsvSource({
    "50, 0.4259071946144104, 1.301119175166785",
    "101, 0.5704395323991776, 1.2284042441106242",
    "152, 0.6386479139328003, 1.1918827706862754",
  })
  void kfacJaxConstants(int depth, double slope, double outputScale) {
    ShapedActivation a = solve(depth);
    assertEquals(slope, a.params().negativeSlope().orElseThrow(), 1e-15, "negative_slope");
    assertEquals(outputScale, a.params().outputScale(), 1e-15, "output_scale");
    // and the constant really gives eta = 0.9, by the reference's M and the arc-cosine form
    double c0 = ReferenceM.resnet(0.0, c -> Recheck.treluC(slope, c), depth, 0.0, true);
    assertEquals(0.9, c0, 1e-8);
  }

  /** NetworkKernelValues documents C''(1) = +Infinity for leaky ReLU. */
  @ParameterizedTest(name = "ResNet-{0}")
  @CsvSource({"50", "101"})
  void reportedNetworkCurvatureIsInfinite(int depth) {
    assertEquals(Double.POSITIVE_INFINITY, solve(depth).network().cCurvature1(), 0.0);
  }
}
