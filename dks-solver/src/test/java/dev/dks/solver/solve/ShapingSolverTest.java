package dev.dks.solver.solve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.solver.activation.Activations;
import dev.dks.solver.activation.ShapingParams;
import dev.dks.solver.activation.StandardActivation;
import dev.dks.solver.network.Architectures;
import dev.dks.solver.network.NetworkMaps;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Entry point behaviour: untransformed, de-duplication, lookups, user-supplied functions. */
class ShapingSolverTest {
  @Test
  void untransformedReturnsIdentityAndRawKernelValues() {
    ShapingSolution s = ShapingSolver.solve(Method.UNTRANSFORMED,
        List.of(StandardActivation.ERF, StandardActivation.ERF),
        NetworkMaps.of(Architectures.plainChain(3)), DksTargets.defaults(),
        TatTargets.defaults());
    assertEquals(Method.UNTRANSFORMED, s.method());
    assertTrue(Double.isNaN(s.localTarget()));
    assertEquals(1, s.activations().size());
    ShapedActivation a = s.get("erf");
    assertEquals(ShapingParams.IDENTITY, a.params());
    // closed form Q(1) of erf: (2/pi) arcsin(2/3)
    assertEquals(2 / Math.PI * Math.asin(2.0 / 3), a.local().q1(), 1e-14);
    assertEquals(-1, a.startIndex());
  }

  @Test
  void duplicatesAreSolvedOnceInRequestOrder() {
    ShapingSolution s = ShapingSolver.solve(Method.DKS,
        List.of(Activations.byName("tanh"), Activations.byName("erf"), Activations.byName("TANH")),
        NetworkMaps.of(Architectures.plainChain(10)), DksTargets.defaults(),
        TatTargets.defaults());
    assertEquals(List.of("tanh", "erf"), List.copyOf(s.activations().keySet()));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.get("gelu"));
    assertTrue(e.getMessage().contains("tanh"), e.getMessage());
  }

  @Test
  void userSlopeFunctionGivesTheSameSolutionAsTheStructure() {
    ShapingParams viaStructure = ShapingSolver.solve(Method.DKS, List.of(StandardActivation.ERF),
        NetworkMaps.of(Architectures.plainChain(10)), DksTargets.defaults(),
        TatTargets.defaults()).get("erf").params();
    ShapedActivation viaFunction = ShapingSolver.solve(Method.DKS,
        List.of(StandardActivation.ERF), NetworkMaps.ofFunctions(x -> Math.pow(x, 10), null),
        DksTargets.defaults(), TatTargets.defaults()).get("erf");
    assertEquals(viaStructure.inputScale(), viaFunction.params().inputScale(), 1e-10);
    assertEquals(viaStructure.inputShift(), viaFunction.params().inputShift(), 1e-10);
    assertEquals(1.5, viaFunction.network().cSlope1(), 1e-7);
    assertTrue(Double.isNaN(viaFunction.network().c0()));
  }

  @Test
  void transformedFunctionUsesTheParams() {
    ShapedActivation a = ShapingSolver.solve(Method.DKS, List.of(StandardActivation.TANH),
        NetworkMaps.of(Architectures.plainChain(10)), DksTargets.defaults(),
        TatTargets.defaults()).get("tanh");
    ShapingParams p = a.params();
    double x = 0.37;
    assertEquals(p.outputScale() * (Math.tanh(p.inputScale() * x + p.inputShift())
        + p.outputShift()), a.transformed().value(x), 1e-14);
  }
}
