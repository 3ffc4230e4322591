package dev.dks.rewriter.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.analysis.NetworkAnalysis;
import dev.dks.rewriter.analysis.StructureAnalyzer;
import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorProtos;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.TensorProto;

/**
 * The automatic weight-draw count under the rotation budget ({@link KernelCheck#drawsWithin}),
 * the rotation cost model ({@link WeightRotations#drawFlops}) against the operation counts of
 * the architecture written out by hand, and the parallel rotation against the documented
 * sequential one (same seeds, same values).
 */
class KernelDrawBudgetTest {
  /** Hand count of HaarOrthogonal.rotateLeft on n x k (see WeightRotations.rotateLeftFlops). */
  private static double left(double n, double k) {
    return k >= n ? 8.0 / 3 * n * n * n + 2 * n * n * k
        : 8 * n * k * k - 8.0 / 3 * k * k * k + n * k * k;
  }

  @Test
  void budgetCutsExpensiveDrawsButNotBelowTheMinimum() {
    double budget = KernelCheck.ROTATION_FLOP_BUDGET;
    // cheap draws: the width rule alone (and its cap of 24)
    assertEquals(13, KernelCheck.drawsWithin(13, 1e6));
    assertEquals(24, KernelCheck.drawsWithin(40, 1e6));
    assertEquals(1, KernelCheck.drawsWithin(0.3, 1e12));
    // a ResNet-50 (67 GFLOP per draw, width rule 13): 300 GFLOP pays 4 rotated draws, the
    // minimum keeps 6 (the old cap of 50M parameter-draws gave 2)
    assertEquals(6, KernelCheck.drawsWithin(13, 66.7e9));
    // a mid-size net: 1 + floor(300 / 20) = 16 of the 24 wanted
    assertEquals(16, KernelCheck.drawsWithin(24, budget / 15));
    // the minimum never raises what the width rule asks for
    assertEquals(3, KernelCheck.drawsWithin(3, 1e13));
    // negative control: just within the budget nothing is cut
    assertEquals(11, KernelCheck.drawsWithin(11, budget / 10));
    assertEquals(10, KernelCheck.drawsWithin(11, budget / 10 * 1.001));
  }

  private static Model plainCnn() {
    return ModelBuilder.build(ArchitectureSpec.builder(Architecture.PLAIN_CNN, 3).width(8)
        .activation("tanh").input("4x4x3").seed(5).build()).model();
  }

  private static NetworkAnalysis analysis(Model m) {
    return StructureAnalyzer.analyze(GraphView.of(m.graph()), m.inputNodes(), m.outputNodes());
  }

  @Test
  void drawCostFollowsTheKernelShapes() {
    Model m = plainCnn();
    NetworkAnalysis a = analysis(m);
    List<WeightRotations.Kernel> ks = WeightRotations.kernels(m, a.layers(),
        GraphView.of(m.graph()));
    // conv 3->8, conv 8->8, conv 8->8 (Delta kernels: one live tap of 9), dense 8->10
    assertEquals(List.of(3, 8, 8, 8), ks.stream().map(WeightRotations.Kernel::in).toList());
    assertEquals(List.of(8, 8, 8, 10), ks.stream().map(WeightRotations.Kernel::out).toList());
    assertEquals(List.of(1, 1, 1, 1), ks.stream().map(WeightRotations.Kernel::liveTaps).toList());
    double expected = left(3, 8) + left(8, 3 + 1) // non-square conv: both sides, bias row
        + 2 * left(8, 8) // square convs: left only
        + left(8, 10) + left(10, 8 + 1);
    assertEquals(expected, WeightRotations.drawFlops(ks), 1e-9 * expected);
  }

  @Test
  void parallelRotationGivesTheSequentialDraw() {
    Model m = plainCnn();
    NetworkAnalysis a = analysis(m);
    GraphView g = GraphView.of(m.graph());
    long seed = 77;
    Map<String, TensorProto> got = WeightRotations.rotatedVariables(m, a.layers(), g, seed);
    int rotated = 0;
    for (WeightRotations.Kernel k : WeightRotations.kernels(m, a.layers(), g)) {
      String name = k.layer().kernelVariable();
      float[] w = TensorProtos.floats(m.variables().get(name));
      String biasName = k.layer().biasVariable();
      float[] bias = biasName.isEmpty() ? null : TensorProtos.floats(m.variables().get(biasName));
      WeightRotations.Rotated want = WeightRotations.rotate(w, k.in(), k.out(), bias,
          seed * 1_000_003L + k.position());
      assertArrayEquals(want.kernel(), TensorProtos.floats(got.get(name)), name);
      if (bias != null && want.bias() != bias) {
        assertArrayEquals(want.bias(), TensorProtos.floats(got.get(biasName)), biasName);
      }
      rotated++;
    }
    assertEquals(4, rotated);
    // negative control: another seed gives other kernels
    Map<String, TensorProto> other = WeightRotations.rotatedVariables(m, a.layers(), g, seed + 1);
    String first = a.layers().get(0).kernelVariable();
    assertTrue(!java.util.Arrays.equals(TensorProtos.floats(got.get(first)),
        TensorProtos.floats(other.get(first))));
  }
}
