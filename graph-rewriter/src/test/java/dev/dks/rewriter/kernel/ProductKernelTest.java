package dev.dks.rewriter.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.activation.ActivationEmitter;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.testing.DenseNets;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.network.Dag;
import dev.dks.solver.network.NetworkMaps;
import dev.dks.solver.solve.ShapedActivation;
import dev.dks.solver.solve.ShapingSolution;
import dev.dks.solver.solve.TatSolver;
import dev.dks.solver.solve.TatTargets;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;

/**
 * The kernel check on a gated network (issue 12): {@code h = T(dense(x))}, a gate {@code g =
 * T(dense(T(dense(h))))} and {@code z = h * g} (a Mul of two streams), then a dense layer, with
 * TAT's leaky ReLU T at width 128. The measured c at the output (TensorFlow, random orthogonal
 * weights, 16 draws) and the check's prediction both match the closed form {@code c_z = C(c0)
 * C(C(C(c0)))} from the TReLU C map (not the check's quadrature maps), and the check passes;
 * negative control: the equal-weight average the analysis used before, {@code (c_h + c_g) / 2},
 * is off the measurement by more than the tolerance.
 */
@Tag("tf")
class ProductKernelTest {
  private static final int WIDTH = 128;

  private static double treluC(double c, double s) {
    double k = (1 - s) * (1 - s) / (Math.PI * (1 + s * s));
    return c + k * (Math.sqrt(1 - c * c) - c * Math.acos(c));
  }

  private static ShapingSolution solution() {
    Dag.Builder b = Dag.builder();
    int h = b.layer(b.input());
    int g = b.layer(b.layer(h));
    b.affine(b.product(h, g));
    return TatSolver.solve(List.of(Activations.byName("leaky_relu")),
        NetworkMaps.of(b.build()), TatTargets.autoEta(0.3));
  }

  private static Model gated(ShapedActivation act) {
    DenseNets n = new DenseNets(WIDTH);
    TensorName h = ActivationEmitter.emit(n.g, "act_h", n.dense(TensorName.of("input")),
        act.base(), act.params(), DataType.DT_FLOAT);
    TensorName u = ActivationEmitter.emit(n.g, "act_u", n.dense(h), act.base(), act.params(),
        DataType.DT_FLOAT);
    TensorName g = ActivationEmitter.emit(n.g, "act_g", n.dense(u), act.base(), act.params(),
        DataType.DT_FLOAT);
    n.g.add(Nodes.op("Mul", "gate/mul").input(h).input(g).type("T", DataType.DT_FLOAT).build());
    return n.model(n.dense(TensorName.of("gate/mul")));
  }

  @Test
  void productOfTwoStreamsIsPredictedByTheProductOfTheirCMaps() {
    ShapingSolution sol = solution();
    ShapedActivation act = sol.get("leaky_relu");
    double s = act.params().negativeSlope().getAsDouble();
    KernelReport r = KernelCheck.run(gated(act), sol,
        KernelCheck.Options.defaults().withDraws(16));
    List<KernelMeasurement> judged = r.judgedRows();
    assertEquals(3, judged.size(), r.toText());
    for (KernelMeasurement m : judged) {
      double ch = treluC(m.inputC(), s);
      double cg = treluC(treluC(ch, s), s);
      double closedForm = ch * cg;
      // the prediction at the network's own width (FiniteWidthPairs) is within its finite-width
      // bias of the infinite-width closed form (0.014 at width 64, input c 0)
      assertEquals(closedForm, m.predictedC(), 0.015, r.toText());
      assertEquals(closedForm, m.measuredC(), Math.max(0.03, m.cAllowed()), r.toText());
      assertEquals(1.0, m.predictedQ(), 0.1, r.toText());
      double average = (ch + cg) / 2;
      assertTrue(Math.abs(average - m.measuredC()) > Math.max(0.05, m.cAllowed()),
          "the average " + average + " at c0 " + m.inputC() + "\n" + r.toText());
    }
    assertTrue(r.passed(), r.toText());
  }
}
