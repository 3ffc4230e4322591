package dev.dks.solver.solve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.solver.activation.Activations;
import dev.dks.solver.activation.ShapingParams;
import dev.dks.solver.network.Architectures;
import dev.dks.solver.network.NetworkMaps;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Roots the reference lands on where several exist (dks-math.md sections 5.1 and 7.2). */
class ReferenceRootChoicesTest {
  private static ShapedActivation solve(Method m, String name, int depth) {
    return ShapingSolver.solve(m, List.of(Activations.byName(name)),
        NetworkMaps.of(Architectures.plainChain(depth)), DksTargets.ofZeta(1.5),
        new TatTargets(0.9, 0.3)).get(name);
  }

  @Test
  void dksTanhTenLayersTakesThePositiveShiftRootFromTheSecondStart() {
    ShapedActivation a = solve(Method.DKS, "tanh", 10);
    ShapingParams p = a.params();
    assertEquals(0.297, p.inputScale(), 1e-3);
    assertEquals(0.653, p.inputShift(), 1e-3);
    assertTrue(p.inputShift() > 0);
    // from (1, 0) there is no convergence (odd function, symmetric start); (1, 1) is start 1
    assertEquals(1, a.startIndex());
  }

  @Test
  void tatSigmoidTenLayersReturnsTheRejectedLastStart() {
    ShapedActivation a = solve(Method.TAT, "sigmoid", 10);
    ShapingParams p = a.params();
    assertEquals(StartPoints.TOTAL - 1, a.startIndex());
    assertEquals(5.34, p.inputScale() * p.outputScale(), 0.01);
    assertFalse(a.warnings().isEmpty());
    assertTrue(a.warnings().get(0).contains("rejects"), a.warnings().get(0));
    // the quirky solution still satisfies the equations
    Recheck.Local loc = Recheck.local(Activations.byName("sigmoid"), p);
    assertEquals(1.0, loc.q1(), 1e-9);
    assertEquals(1.0, loc.cSlope1(), 1e-9);
    assertEquals(0.03, loc.cCurvature1(), 1e-8);
  }
}
