package dev.dks.rewriter.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.analysis.StructureAnalyzer;
import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.model.Model;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The sequential draw rule of the kernel check ({@link KernelCheck.Options#draws()}): the
 * standard error it stops on, the draw count it asks for next, and the cost cap that gives
 * narrow networks room and keeps expensive ones at the width rule's count; the numbers are
 * written out by hand from the formulas in the Javadoc.
 */
class KernelSequentialDrawsTest {
  /** Hand count of HaarOrthogonal.rotateLeft on n x k (see WeightRotations.rotateLeftFlops). */
  private static double left(double n, double k) {
    return k >= n ? 8.0 / 3 * n * n * n + 2 * n * n * k
        : 8 * n * k * k - 8.0 / 3 * k * k * k + n * k * k;
  }

  private static WeightRotations.Kernel conv(int in, int out) {
    return new WeightRotations.Kernel(null, 1, new long[] {3, 3, in, out}, in, out, false, 1,
        false);
  }

  @Test
  void standardErrorOfTheMean() {
    // 1, 2, 3, 4: sample variance 5/3, standard error sqrt(5/3 / 4)
    assertEquals(Math.sqrt(5.0 / 12), KernelCheck.standardError(new double[] {1, 2, 3, 4}),
        1e-15);
    assertEquals(0.0, KernelCheck.standardError(new double[] {0.3, 0.3, 0.3}), 0);
    assertTrue(Double.isNaN(KernelCheck.standardError(new double[] {1})));
    assertTrue(Double.isNaN(KernelCheck.standardError(new double[] {1, Double.NaN})));
  }

  @Test
  void nextDrawCountFollowsOneOverSqrtDraws() {
    double target = 0.25 * 0.03;
    assertEquals(0.0075, KernelCheck.SE_FRACTION * 0.03, 1e-15);
    // 24 draws at se 0.009: 24 (0.009 / 0.0075)^2 1.2 = 41.47 -> 42
    assertEquals(42, KernelCheck.sequentialDraws(24, 0.009, target, 96));
    // twice the target: 24 * 4 * 1.2 = 115.2, cut to twice the draws, then to the cap
    assertEquals(48, KernelCheck.sequentialDraws(24, 0.015, target, 96));
    assertEquals(40, KernelCheck.sequentialDraws(24, 0.015, target, 40));
    // barely above the target with 2 draws: 2.46 -> 3, at least one more
    assertEquals(3, KernelCheck.sequentialDraws(2, 0.0076, target, 96));
    assertEquals(25, KernelCheck.sequentialDraws(24, 0.0075 * 1.0001, target, 25));
  }

  @Test
  void drawCostCountsRotationsForwardPassAndOverhead() {
    List<WeightRotations.Kernel> ks = List.of(conv(16, 32), conv(32, 32));
    // rotations: 16->32 both sides (bias row on the right), 32->32 left only
    double rot = left(16, 32) + left(32, 16 + 1) + left(32, 32);
    // forward: 2 FLOP x live weights x 2 inputs x 3 input c x 8 pairs x 1 location
    double fwd = 2.0 * (16 * 32 + 32 * 32) * 2 * 3 * 8;
    assertEquals(rot + fwd + KernelCheck.DRAW_OVERHEAD_FLOPS,
        KernelCheck.drawCost(ks, 8, 3, 1), 1e-6);
    // at 4 locations the forward part is 4 times larger
    assertEquals(rot + 4 * fwd + KernelCheck.DRAW_OVERHEAD_FLOPS,
        KernelCheck.drawCost(ks, 8, 3, 4), 1e-6);
  }

  @Test
  void capGivesNarrowNetsRoomAndKeepsExpensiveOnesAtTheWidthRule() {
    // a width-16 ResNet-18 as dks build writes it: cheap draws, 96 or more of them
    Model r18 = ModelBuilder.build(ArchitectureSpec.builder(Architecture.RESNET, 18).width(16)
        .activation("tanh").seed(0).build()).model();
    var a = StructureAnalyzer.analyze(GraphView.of(r18.graph()), r18.inputNodes(),
        r18.outputNodes());
    var kernels = WeightRotations.kernels(r18, a.layers(), GraphView.of(r18.graph()));
    // added draws measure 32 pairs per input c
    double cost = KernelCheck.drawCost(kernels, 32, 3, 1);
    int cap = KernelCheck.sequentialCap(24, kernels, 32, 3, 1);
    assertEquals(Math.min(KernelCheck.MAX_SEQUENTIAL_DRAWS, 1 + (int) Math.floor(20e9 / cost)),
        cap);
    assertTrue(cap >= 96, "cap " + cap);
    // a 2048-wide square kernel alone (a ResNet-50's last block) costs 40 GFLOP a draw: the
    // budget pays for no draw beyond the first, so the width rule's 6 stay
    List<WeightRotations.Kernel> wide = List.of(conv(2048, 2048));
    assertEquals(6, KernelCheck.sequentialCap(6, wide, 22, 3, 1));
    // square n x n kernels: about 1 GFLOP a draw at n = 560 (8/3 n^3 + 2 n^3 = 0.82 GFLOP plus
    // forward and overhead): 1 + 20 draws, under the width rule's 24, which stay; at n = 400
    // (0.30 GFLOP plus) the budget pays for more than 24
    for (int n : new int[] {560, 400}) {
      List<WeightRotations.Kernel> k = List.of(conv(n, n));
      double c = left(n, n) + 2.0 * n * n * 2 * 3 * 8 + KernelCheck.DRAW_OVERHEAD_FLOPS;
      int affordable = 1 + (int) Math.floor(20e9 / c);
      assertEquals(Math.max(24, Math.min(KernelCheck.MAX_SEQUENTIAL_DRAWS, affordable)),
          KernelCheck.sequentialCap(24, k, 8, 3, 1), "n = " + n);
      assertTrue(n == 560 ? affordable < 24 : affordable > 24, "n = " + n + ": " + affordable);
    }
  }

  @Test
  void precisionRatioIsTheFartherOfTheTwoTargets() {
    double cTarget = 0.25 * 0.03;
    double qTarget = 0.25 * Math.log(1.5);
    // c at twice its target, log q at 3 times its own: 3
    assertEquals(3, KernelCheck.precisionRatio(0.015, cTarget, 3 * qTarget, qTarget), 1e-12);
    assertEquals(2, KernelCheck.precisionRatio(0.015, cTarget, 0.5 * qTarget, qTarget), 1e-12);
    // q not judged by log q (NaN target or standard error): c alone, and the reverse
    assertEquals(2, KernelCheck.precisionRatio(0.015, cTarget, 0.3, Double.NaN), 1e-12);
    assertEquals(3, KernelCheck.precisionRatio(Double.NaN, cTarget, 3 * qTarget, qTarget),
        1e-12);
    assertTrue(Double.isNaN(KernelCheck.precisionRatio(Double.NaN, cTarget, Double.NaN,
        qTarget)));
    // the draws asked for: 24 draws at ratio 3 want 24 x 9 x 1.2, cut to twice the draws
    assertEquals(48, KernelCheck.sequentialDraws(24, 3, 1, 256));
    assertEquals(35, KernelCheck.sequentialDraws(24, 1.1, 1, 256)); // 24 x 1.21 x 1.2 = 34.8
  }

  @Test
  void eachKernelIsPricedAtItsOwnLocations() {
    // a 3x3 conv 4 -> 32 at 62 x 62 output locations, then a dense 90 -> 3 at 1 location
    WeightRotations.Kernel c = conv(4, 32);
    WeightRotations.Kernel d = new WeightRotations.Kernel(null, 1, new long[] {90, 3}, 90, 3,
        false, 1, false);
    List<WeightRotations.Kernel> ks = List.of(c, d);
    double rot = left(4, 32) + left(32, 4 + 1) + left(90, 3) + left(3, 90 + 1);
    double pair = 2.0 * (4 * 32 * 3844 + 90 * 3 * 1) * 2 * 3;
    assertEquals(rot + KernelCheck.DRAW_OVERHEAD_FLOPS, KernelCheck.fixedDrawCost(ks), 1e-6);
    assertEquals(pair, KernelCheck.pairCost(ks, new long[] {3844, 1}, 3), 1e-6);
    assertEquals(rot + KernelCheck.DRAW_OVERHEAD_FLOPS + 8 * pair,
        KernelCheck.drawCost(ks, new long[] {3844, 1}, 8, 3), 1e-6);
    // the uniform form prices both at the fed locations: the dense head 3844 times over
    assertEquals(rot + KernelCheck.DRAW_OVERHEAD_FLOPS + 8 * 2.0 * (4 * 32 + 90 * 3) * 3844 * 6,
        KernelCheck.drawCost(ks, 8, 3, 3844), 1e-3);
  }

  @Test
  void addedDrawsTakeFewPairsWhereAPairIsDearNextToTheRotations() {
    // the pair count that minimizes the cost of a standard error: sqrt(fixed / pair) x 5,
    // rounded up to a multiple of 8, within [max(8, width rule's), 32]
    List<WeightRotations.Kernel> small = List.of(conv(4, 32));
    double fixed = left(4, 32) + left(32, 5) + KernelCheck.DRAW_OVERHEAD_FLOPS;
    // at 3844 locations a pair costs 5.9 MFLOP: sqrt(50.1 / 5.9) x 5 = 14.6 -> 16
    double pair = 2.0 * 4 * 32 * 3844 * 2 * 3;
    assertEquals(16, 8 * (int) Math.ceil(Math.sqrt(fixed / pair) * 5 / 8));
    assertEquals(16, KernelCheck.addedPairsPerDraw(small, new long[] {3844}, 3, 8));
    // at 1 location pairs are nearly free: 32; far more locations: the least, 8
    assertEquals(32, KernelCheck.addedPairsPerDraw(small, new long[] {1}, 3, 8));
    assertEquals(8, KernelCheck.addedPairsPerDraw(small, new long[] {1_000_000}, 3, 8));
    // never under the width rule's own pairs per draw
    assertEquals(24, KernelCheck.addedPairsPerDraw(small, new long[] {1_000_000}, 3, 24));
  }
}
