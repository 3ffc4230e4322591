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
 * standard error it stops on, the draw count it asks for next, and the CPU budget that gives
 * narrow networks room and keeps expensive ones at the width rule's count; the numbers are
 * written out by hand from the formulas in the Javadoc (rotations at 5 GFLOP/s, forward passes
 * at 10 GFLOP/s, 10 ms a draw besides, 15 s for the sequential rule).
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
  void drawSecondsCountRotationsForwardPassAndOverhead() {
    List<WeightRotations.Kernel> ks = List.of(conv(16, 32), conv(32, 32));
    // rotations: 16->32 both sides (bias row on the right), 32->32 left only
    double rot = left(16, 32) + left(32, 16 + 1) + left(32, 32);
    // forward: 2 FLOP x live weights x 2 inputs x 3 input c x 8 pairs x 1 location
    double fwd = 2.0 * (16 * 32 + 32 * 32) * 2 * 3 * 8;
    assertEquals(rot / 5e9 + fwd / 10e9 + 0.01, KernelCheck.drawSeconds(ks, 8, 3, 1), 1e-15);
    // at 4 locations the forward part is 4 times larger
    assertEquals(rot / 5e9 + 4 * fwd / 10e9 + 0.01, KernelCheck.drawSeconds(ks, 8, 3, 4),
        1e-15);
  }

  @Test
  void capGivesNarrowNetsRoomAndKeepsExpensiveOnesAtTheWidthRule() {
    // a width-16 ResNet-18 as dks build writes it: cheap draws, 96 or more of them
    Model r18 = ModelBuilder.build(ArchitectureSpec.builder(Architecture.RESNET, 18).width(16)
        .activation("tanh").seed(0).build()).model();
    var a = StructureAnalyzer.analyze(GraphView.of(r18.graph()), r18.inputNodes(),
        r18.outputNodes());
    var kernels = WeightRotations.kernels(r18, a.layers(), GraphView.of(r18.graph()));
    // added draws measure 64 pairs per input c
    double seconds = KernelCheck.drawSeconds(kernels, 64, 3, 1);
    int cap = KernelCheck.sequentialCap(24, kernels, 64, 3, 1);
    assertEquals(Math.min(KernelCheck.MAX_SEQUENTIAL_DRAWS, 1 + (int) Math.floor(15 / seconds)),
        cap);
    assertTrue(cap >= 96, "cap " + cap);
    // a 2048-wide square kernel alone (a ResNet-50's last block) costs 40 GFLOP a draw, 8 s:
    // the budget pays for one draw beyond the first, so the width rule's 6 stay
    List<WeightRotations.Kernel> wide = List.of(conv(2048, 2048));
    assertEquals(6, KernelCheck.sequentialCap(6, wide, 22, 3, 1));
    // square n x n kernels: at n = 1000 a draw costs 14/3 n^3 = 4.7 GFLOP of rotations, 0.93 s
    // (plus 10 ms of forward passes and overhead): 1 + 15 draws, under the width rule's 24,
    // which stay; at n = 560 (0.82 GFLOP, 0.16 s) the budget pays for 85
    for (int n : new int[] {1000, 560}) {
      List<WeightRotations.Kernel> k = List.of(conv(n, n));
      double s = left(n, n) / 5e9 + 2.0 * n * n * 2 * 3 * 8 / 10e9 + 0.01;
      int affordable = 1 + (int) Math.floor(15 / s);
      assertEquals(Math.max(24, Math.min(KernelCheck.MAX_SEQUENTIAL_DRAWS, affordable)),
          KernelCheck.sequentialCap(24, k, 8, 3, 1), "n = " + n);
      assertEquals(n == 1000 ? 16 : 85, affordable, "n = " + n);
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
    assertEquals(rot / 5e9 + 0.01, KernelCheck.fixedDrawSeconds(ks), 1e-15);
    assertEquals(pair, KernelCheck.pairCost(ks, new long[] {3844, 1}, 3), 1e-6);
    assertEquals(pair / 10e9, KernelCheck.pairSeconds(ks, new long[] {3844, 1}, 3), 1e-15);
    assertEquals(rot / 5e9 + 0.01 + 8 * pair / 10e9,
        KernelCheck.drawSeconds(ks, new long[] {3844, 1}, 8, 3), 1e-15);
    // the uniform form prices both at the fed locations: the dense head 3844 times over
    assertEquals(rot / 5e9 + 0.01 + 8 * 2.0 * (4 * 32 + 90 * 3) * 3844 * 6 / 10e9,
        KernelCheck.drawSeconds(ks, 8, 3, 3844), 1e-12);
  }

  @Test
  void addedDrawsTakeFewPairsWhereAPairIsDearNextToTheRotations() {
    // the pair count that minimizes the cost of a standard error: sqrt(fixed / pair) x 5,
    // rounded up to a multiple of 8, within [max(8, width rule's), 64]
    List<WeightRotations.Kernel> small = List.of(conv(4, 32));
    double fixed = (left(4, 32) + left(32, 5)) / 5e9 + 0.01;
    // at 3844 locations a pair costs 5.9 MFLOP, 0.59 ms: sqrt(10.0 / 0.59) x 5 = 20.6 -> 24
    double pair = 2.0 * 4 * 32 * 3844 * 2 * 3 / 10e9;
    assertEquals(24, 8 * (int) Math.ceil(Math.sqrt(fixed / pair) * 5 / 8));
    assertEquals(24, KernelCheck.addedPairsPerDraw(small, new long[] {3844}, 3, 8));
    // at 1 location pairs are nearly free: 64; far more locations: the least, 8
    assertEquals(64, KernelCheck.addedPairsPerDraw(small, new long[] {1}, 3, 8));
    assertEquals(8, KernelCheck.addedPairsPerDraw(small, new long[] {1_000_000}, 3, 8));
    // never under the width rule's own pairs per draw
    assertEquals(24, KernelCheck.addedPairsPerDraw(small, new long[] {1_000_000}, 3, 24));
  }

  @Test
  void theMnistConvNetGetsTheDrawsItsStandardErrorNeeds() {
    // ML.NET's MNIST conv net as dks rewrite writes it (TAT, PLN: 2 features per location):
    // Delta convs 2->6 at 28x28, 6->12 at 14x14, 12->24 at 7x7, a dense 1176->200 after the
    // flatten and the 200->10 logits, each with a bias (a bias row in the right rotation)
    int[][] layers = {{2, 6, 784}, {6, 12, 196}, {12, 24, 49}, {1176, 200, 1}, {200, 10, 1}};
    List<WeightRotations.Kernel> ks = new java.util.ArrayList<>();
    long[] at = new long[layers.length];
    double rot = 0;
    double pairFlops = 0;
    for (int i = 0; i < layers.length; i++) {
      int in = layers[i][0];
      int out = layers[i][1];
      ks.add(i < 3 ? conv(in, out) : new WeightRotations.Kernel(null, i + 1,
          new long[] {in, out}, in, out, false, 1, false));
      at[i] = layers[i][2];
      rot += left(in, out) + left(out, in + 1);
      pairFlops += 2.0 * in * out * layers[i][2] * 2 * 3;
    }
    // by hand: 0.518 GFLOP of rotations (0.52 of them the dense 1176 x 200), 3.30 MFLOP a pair
    assertEquals(517_788_666, rot, 1);
    assertEquals(3_297_984, pairFlops, 1e-6);
    // 0.1136 s fixed, 0.33 ms a pair: sqrt(0.1136 / 0.00033) x 5 = 92.8 -> the cap of 64
    assertEquals(64, KernelCheck.addedPairsPerDraw(ks, at, 3, 8));
    // a draw of 64 pairs: 0.1136 + 64 x 0.00033 = 0.1347 s; 15 s pay for 1 + 111 draws, where
    // its c (a draw's sd about 0.07) needs about (0.07 / 0.0075)^2 = 87. The 20 GFLOP of before
    // (FLOP of rotations, forward passes and 50 MFLOP a draw alike, 32 pairs) paid for 30:
    // 1 + floor(20e9 / (0.568e9 + 32 x 3.30e6)) = 30, the weak pass this replaces
    double seconds = 0.1135577 + 64 * 0.00032980;
    assertEquals(seconds, KernelCheck.drawSeconds(ks, at, 64, 3), 1e-6);
    assertEquals(112, KernelCheck.sequentialCap(18, KernelCheck.drawSeconds(ks, at, 64, 3)));
    assertEquals(30, 1 + (int) Math.floor(20e9 / (rot + 50e6 + 32 * pairFlops)));
  }
}
