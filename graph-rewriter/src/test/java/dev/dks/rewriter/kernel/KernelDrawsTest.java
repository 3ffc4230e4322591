package dev.dks.rewriter.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.passes.dks.ActivationPolicy;
import dev.dks.rewriter.passes.dks.DksInitPass;
import dev.dks.rewriter.passes.dks.ShapeActivationsPass;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.testing.DenseNets;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.init.DeltaOrthogonal;
import dev.dks.solver.network.Architectures;
import dev.dks.solver.network.NetworkMaps;
import dev.dks.solver.solve.DksTargets;
import dev.dks.solver.solve.Method;
import dev.dks.solver.solve.ShapingSolution;
import dev.dks.solver.solve.TatSolver;
import dev.dks.solver.solve.TatTargets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.TensorProto;

/**
 * The kernel check averages over weight draws (Haar rotations of the model's kernels): the
 * rotations keep what shaping is about, and the average meets the infinite-width prediction of a
 * narrow net, checked against the closed-form TReLU C map, not the check's own quadrature maps.
 */
@Tag("tf")
class KernelDrawsTest {
  private static final int DEPTH = 20;
  private static final int WIDTH = 64;

  /** Closed-form C map of the normalized leaky ReLU with slope s (TAT paper / dks-math 5.2). */
  private static double treluC(double c, double s) {
    double k = (1 - s) * (1 - s) / (Math.PI * (1 + s * s));
    return c + k * (Math.sqrt(1 - c * c) - c * Math.acos(c));
  }

  private static double compose(double c, double s, int layers) {
    for (int i = 0; i < layers; i++) {
      c = treluC(c, s);
    }
    return c;
  }

  /** The slope whose DEPTH-fold TReLU map sends 0 to eta = 0.9, by bisection (increasing s). */
  private static double slopeForEta() {
    double lo = 0;
    double hi = 1;
    for (int i = 0; i < 60; i++) {
      double mid = (lo + hi) / 2;
      if (compose(0, mid, DEPTH) > 0.9) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    return (lo + hi) / 2;
  }

  @Test
  void rotationsKeepDeltaStructureAndScale() {
    int in = 4;
    int out = 6;
    float[] w = DeltaOrthogonal.sample(new long[] {3, 3, in, out}, 1.0, 7).toFloatArray();
    float[] r = WeightRotations.rotate(w, in, out, null, 11).kernel();
    int centre = 4 * in * out;
    double moved = 0;
    for (int i = 0; i < r.length; i++) {
      if (i < centre || i >= centre + in * out) {
        assertEquals(0f, r[i], "off-centre taps of a Delta kernel stay zero");
      } else {
        moved = Math.max(moved, Math.abs(r[i] - w[i]));
      }
    }
    assertTrue(moved > 0.1, "the centre tap is rotated");
    // SUO with in < out: orthonormal rows scaled by sqrt(out / in), so W W^T = (out / in) I
    assertGram(r, centre, in, out, (double) out / in);
    // negative control: a kernel scaled by 2 stays scaled by 2 (W W^T = 4 (out / in) I)
    float[] w2 = w.clone();
    for (int i = 0; i < w2.length; i++) {
      w2[i] *= 2;
    }
    assertGram(WeightRotations.rotate(w2, in, out, null, 11).kernel(), centre, in, out,
        4.0 * out / in);
    // square kernels are rotated on the input side only: still orthogonal (W W^T = I)
    float[] sq = DeltaOrthogonal.sample(new long[] {3, 3, in, in}, 1.0, 8).toFloatArray();
    assertGram(WeightRotations.rotate(sq, in, in, null, 11).kernel(), 4 * in * in, in, in, 1.0);
  }

  private static void assertGram(float[] k, int base, int in, int out, double diag) {
    for (int i = 0; i < in; i++) {
      for (int j = 0; j < in; j++) {
        double g = 0;
        for (int o = 0; o < out; o++) {
          g += k[base + i * out + o] * k[base + j * out + o];
        }
        assertEquals(i == j ? diag : 0, g, 1e-5, "W W^T at " + i + "," + j);
      }
    }
  }

  private static Model treluChain() {
    DenseNets n = new DenseNets(WIDTH);
    TensorName x = TensorName.of("input");
    for (int i = 0; i < DEPTH; i++) {
      x = n.act("leaky_relu", n.dense(x));
    }
    Model raw = n.model(n.dense(x));
    return Pipeline.builder()
        .add(new ShapeActivationsPass(Method.TAT,
            ActivationPolicy.defaults(Method.TAT).all("leaky_relu"), DksTargets.defaults(),
            TatTargets.defaults()))
        .add(new DksInitPass(5)).build().run(raw).model();
  }

  private static ShapingSolution solution() {
    return TatSolver.solve(List.of(Activations.byName("leaky_relu")),
        NetworkMaps.of(Architectures.plainChain(DEPTH)), TatTargets.defaults());
  }

  @Test
  void averagedDrawsMeetTheClosedFormAtNarrowWidth() {
    double s = slopeForEta();
    KernelReport r = KernelCheck.run(treluChain(), solution(),
        KernelCheck.Options.defaults().withDraws(24));
    List<KernelMeasurement> judged = r.judgedRows();
    assertEquals(3, judged.size(), r.toText());
    for (KernelMeasurement m : judged) {
      double closedForm = compose(m.inputC(), s, DEPTH);
      // one width-64 draw of this 20-layer chain is off by about 0.05 (sd); 24 draws by ~0.01
      assertEquals(closedForm, m.measuredC(), 0.02, r.toText());
      // predicted at the network's own width (FiniteWidthPairs): within 0.01 of the
      // infinite-width closed form at width 64
      assertEquals(closedForm, m.predictedC(), 0.01, "the check's prediction");
    }
    assertEquals(0.9, judged.get(0).measuredC(), 0.02, "TAT's C_f(0) target");
    // negative control: the measured c resolves a net 10 layers deeper (C^30(0) = 0.943)
    assertTrue(Math.abs(compose(0, s, DEPTH + 10) - judged.get(0).measuredC()) > 0.025,
        r.toText());
    assertTrue(r.passed(), r.toText());
  }

  @Test
  void sequentialRuleAddsDrawsUntilTheStandardErrorIsAQuarterOfTheTolerance() {
    double s = slopeForEta();
    // the width rule: 21 tensors of width 64 after the first, 21/64 / 0.02 = 16.4 -> 17 draws
    KernelReport fixed = KernelCheck.run(treluChain(), solution(),
        KernelCheck.Options.defaults().withDraws(17));
    assertEquals(new KernelSampling(17, 8, 0, 0, fixed.sampling().cStandardError(), "given",
        fixed.sampling().logQStandardError(), 17), fixed.sampling());
    // control: 17 draws leave the standard error above the target (a draw's sd is about 0.05)
    assertTrue(fixed.sampling().cStandardError() > 0.0075, fixed.toText());
    KernelReport auto = KernelCheck.run(treluChain(), solution(), KernelCheck.Options.defaults());
    KernelSampling got = auto.sampling();
    assertEquals("precision", got.rule(), auto.toText());
    assertTrue(got.draws() > 17 && got.draws() <= KernelCheck.MAX_SEQUENTIAL_DRAWS,
        got.toString());
    // automatic draws take the sequential rule's pairs from the first (all draws weigh alike):
    // 21 64 x 64 rotations (14/3 64^3 FLOP each at 5 GFLOP/s, 5.1 ms) and 10 ms of overhead
    // cost 147 pairs' forward passes (21 x 2 x 64^2 x 6 FLOP at 10 GFLOP/s, 0.10 ms):
    // sqrt(147) x 5 = 61 -> the cap of 64, where the pairs option split over 17 draws gives 8
    double fixedSeconds = 21 * 14.0 / 3 * 64 * 64 * 64 / 5e9 + 0.01;
    double pair = 21 * 2.0 * 64 * 64 * 6 / 10e9;
    assertTrue(Math.sqrt(fixedSeconds / pair) * 5 > 56, "" + Math.sqrt(fixedSeconds / pair) * 5);
    assertEquals(64, got.pairsPerDraw());
    // the first 17 draws are the width rule's, the added ones measure 64 pairs each too
    assertEquals(got.draws() - 17, got.addedDraws());
    assertEquals(KernelCheck.SEQUENTIAL_PAIRS_PER_DRAW, got.addedPairsPerDraw());
    assertTrue(got.cStandardError() <= 0.0075, got.toString());
    for (KernelMeasurement m : auto.judgedRows()) {
      // against the closed form: within 4 standard errors of the mean
      assertEquals(compose(m.inputC(), s, DEPTH), m.measuredC(), 4 * 0.0075, auto.toText());
    }
  }

  @Test
  void drawsKeepAMisScaledKernelFailing() {
    Model m = treluChain();
    Map<String, TensorProto> vars = new HashMap<>(m.variables());
    String kernel = "dense10/kernel";
    float[] k = TensorProtos.floats(vars.get(kernel));
    for (int i = 0; i < k.length; i++) {
      k[i] *= 2;
    }
    vars.put(kernel, TensorProtos.ofFloats(new long[] {WIDTH, WIDTH}, k));
    KernelReport r = KernelCheck.run(m.with(m.graph(), vars), solution(),
        KernelCheck.Options.defaults().withDraws(8));
    assertFalse(r.passed(), r.toText());
    // q grows fourfold behind the scaled kernel in every draw (leaky ReLU is 1-homogeneous)
    assertTrue(r.judgedRows().get(0).measuredQ() > 2, r.toText());
  }
}
