package dev.dks.rewriter.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.testing.DenseNets;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.network.Dag;
import dev.dks.solver.network.NetworkMaps;
import dev.dks.solver.solve.DksSolver;
import dev.dks.solver.solve.DksTargets;
import dev.dks.solver.solve.ShapingSolution;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;

/**
 * The predicted q overflow ({@link QOverflow}, {@link KernelCheck#predictedOverflow}) on
 * width-8 dense nets of k gated blocks ({@code h = softplus(dense(x)); x = h * softplus(dense(
 * softplus(dense(h))))}): shaped by DKS at local Q'(1) = 1 (the solve of a chain of the same
 * depth, what the solver gave gated nets before), each gate doubles a q error (the network Q'(1)
 * is 2^k), and the finite-width prediction leaves float32's range at 12 gates; 3 gates stay far
 * below it (negative control); the solver's own solve for the gated net (local Q'(1) holding the
 * growth at zeta, or 1 with a warning when softplus cannot reach it) is checked the same way. The
 * limit itself: exactly {@code Float.MAX_VALUE}.
 */
class QOverflowTest {
  private static Model gated(int k) {
    DenseNets n = new DenseNets(8);
    TensorName x = TensorName.of("input");
    for (int i = 0; i < k; i++) {
      TensorName h = n.act("softplus", n.dense(x));
      TensorName g = n.act("softplus", n.dense(n.act("softplus", n.dense(h))));
      String name = "gate" + i + "/mul";
      n.g.add(Nodes.op("Mul", name).input(h).input(g).type("T", DataType.DT_FLOAT).build());
      x = TensorName.of(name);
    }
    return n.model(n.dense(x));
  }

  /** DKS softplus at local Q'(1) = 1: solved for a chain of the gated net's depth 3k + 1. */
  private static ShapingSolution unitQSlope(int k) {
    Dag.Builder b = Dag.builder();
    int x = b.input();
    for (int i = 0; i < 3 * k; i++) {
      x = b.layer(x);
    }
    return DksSolver.solve(List.of(Activations.byName("softplus")), NetworkMaps.of(b.build()),
        DksTargets.defaults());
  }

  @Test
  void theLimitIsFloatMax() {
    assertFalse(QOverflow.overflows(Float.MAX_VALUE));
    assertTrue(QOverflow.overflows(Math.nextUp((double) Float.MAX_VALUE)));
    assertTrue(QOverflow.overflows(Double.POSITIVE_INFINITY));
    assertFalse(QOverflow.overflows(Double.NaN));
    assertFalse(QOverflow.overflows(1.0));
    KernelMeasurement below = new KernelMeasurement("a", 3, 0, Float.MAX_VALUE, 1, 0, 0, 0.5,
        0.03, Double.NaN, Double.NaN, Double.NaN);
    KernelMeasurement above = new KernelMeasurement("b", 5, 0, 1e39, 1, 0, 0, 0.5, 0.03,
        Double.NaN, Double.NaN, Double.NaN);
    assertNull(QOverflow.first(List.of(below)));
    QOverflow o = QOverflow.first(List.of(below, above));
    assertEquals("b", o.tensor());
    assertEquals(5, o.depth());
    assertTrue(o.describe().contains("'b' (depth 5"), o.describe());
  }

  @Test
  void twelveGatesAtUnitQSlopeOverflowAndThreeDoNot() {
    QOverflow deep = KernelCheck.predictedOverflow(gated(12), unitQSlope(12), Map.of());
    assertNotNull(deep);
    assertTrue(deep.predictedQ() > QOverflow.LIMIT, deep.toString());
    assertTrue(deep.tensor().startsWith("gate"), deep.toString());
    assertNull(KernelCheck.predictedOverflow(gated(3), unitQSlope(3), Map.of()));
  }

  /**
   * A model the kernel check cannot feed (here a signature without inputs; in use, an integer
   * image that a Shape also reads) has no q prediction: null, not the check's refusal, so {@code
   * dks rewrite} still writes it (it threw "no input to feed" before).
   */
  @Test
  void aModelTheCheckCannotFeedIsNotRefused() {
    Model deep = gated(12);
    Signature s = deep.signatures().get(0);
    Model unfed = new Model(deep.graph(), deep.variables(), List.of(
        new Signature(s.key(), s.methodName(), Map.of(), s.outputs())));
    assertNull(KernelCheck.predictedOverflow(unfed, unitQSlope(12), Map.of()));
  }
}
