package dev.dks.solver.solve;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.network.Architectures;
import dev.dks.solver.network.NetworkMaps;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every user-facing error has its own type and a message that says what to change. */
class SolverErrorsTest {
  private static void assertHint(Exception e, String hint) {
    assertTrue(e.getMessage().contains(hint), "message should contain '" + hint + "': "
        + e.getMessage());
  }

  private static ShapingSolution solve(Method m, List<String> names, NetworkMaps net) {
    List<Activation> acts = names.stream().map(Activations::byName).toList();
    return ShapingSolver.solve(m, acts, net, DksTargets.defaults(), TatTargets.defaults());
  }

  @ParameterizedTest(name = "zeta = {0}")
  @ValueSource(doubles = {1.0, 0.5, -2, Double.NaN, Double.POSITIVE_INFINITY})
  void zetaMustExceedOne(double zeta) {
    InvalidTargetException e =
        assertThrows(InvalidTargetException.class, () -> DksTargets.ofZeta(zeta));
    assertHint(e, "use");
  }

  @ParameterizedTest(name = "q slope = {0}")
  @ValueSource(doubles = {0, -1, Double.NaN})
  void localQSlopeMustBePositive(double q) {
    assertHint(assertThrows(InvalidTargetException.class, () -> new DksTargets(1.5, q)), "use");
  }

  @ParameterizedTest(name = "tau = {0}")
  @ValueSource(doubles = {0, -0.3, Double.NaN, Double.POSITIVE_INFINITY})
  void tauMustBePositive(double tau) {
    assertHint(assertThrows(InvalidTargetException.class, () -> new TatTargets(0.9, tau)), "use");
  }

  @ParameterizedTest(name = "eta = {0}")
  @ValueSource(doubles = {-0.01, 1.01, Double.NaN})
  void etaMustBeInUnitInterval(double eta) {
    assertHint(assertThrows(InvalidTargetException.class, () -> new TatTargets(eta, 0.3)), "use");
  }

  @Test
  void boundaryTargetsAreValid() {
    assertDoesNotThrow(() -> new TatTargets(0.0, 0.3));
    assertDoesNotThrow(() -> new TatTargets(1.0, 1e-9));
    assertDoesNotThrow(() -> DksTargets.ofZeta(Math.nextUp(1.0)));
    assertEquals(new DksTargets(1.5, 1.0), DksTargets.defaults());
    assertEquals(new TatTargets(0.9, 0.3), TatTargets.defaults());
  }

  @Test
  void reluUnderTatIsUnsupported() {
    UnsupportedActivationException e = assertThrows(UnsupportedActivationException.class,
        () -> solve(Method.TAT, List.of("relu"), NetworkMaps.of(Architectures.plainChain(10))));
    assertHint(e, "use leaky_relu");
  }

  @Test
  void leakyReluMixedWithOthersUnderTatIsUnsupported() {
    NetworkMaps net = NetworkMaps.of(Architectures.plainChain(50));
    assertHint(assertThrows(UnsupportedActivationException.class,
        () -> solve(Method.TAT, List.of("leaky_relu", "tanh"), net)), "use");
    assertHint(assertThrows(UnsupportedActivationException.class,
        () -> solve(Method.TAT, List.of("tanh", "leaky_relu"), net)), "use");
  }

  @Test
  void seluUnderTatIsUnsupported() {
    assertHint(assertThrows(UnsupportedActivationException.class,
        () -> solve(Method.TAT, List.of("selu"), NetworkMaps.of(Architectures.plainChain(10)))),
        "use");
  }

  @Test
  void tatLeakyOnOneLayerIsUnreachable() {
    // a single layer reaches at most C_0(0) = 1/pi < 0.9
    assertTrue(Recheck.treluC(0.0, 0.0) < 0.9);
    assertEquals(1 / Math.PI, Recheck.treluC(0.0, 0.0), 1e-15);
    UnreachableTargetException e = assertThrows(UnreachableTargetException.class,
        () -> solve(Method.TAT, List.of("leaky_relu"), NetworkMaps.of(Architectures.plainChain(1))));
    assertHint(e, "the largest this network reaches is 0.318310");
    assertHint(e, "use eta <= 0.3183");
  }

  @Test
  void dksSoftplusOnOneLayerHasNoRoot() {
    NoRootFoundException e = assertThrows(NoRootFoundException.class,
        () -> solve(Method.DKS, List.of("softplus"), NetworkMaps.of(Architectures.plainChain(1))));
    assertHint(e, "use");
    assertHint(e, "softplus");
  }

  @Test
  void tatLeakyWithoutStructureNeedsOne() {
    NetworkMaps functions = NetworkMaps.ofFunctions(x -> Math.pow(x, 50), x -> 50 * x);
    MissingNetworkMapException e = assertThrows(MissingNetworkMapException.class,
        () -> solve(Method.TAT, List.of("leaky_relu"), functions));
    assertHint(e, "Structure");
  }

  @Test
  void missingSlopeOrCurvatureFunction() {
    assertHint(assertThrows(MissingNetworkMapException.class,
        () -> solve(Method.DKS, List.of("tanh"), NetworkMaps.ofFunctions(null, x -> x))),
        "supply maxSlope");
    assertHint(assertThrows(MissingNetworkMapException.class,
        () -> solve(Method.TAT, List.of("tanh"), NetworkMaps.ofFunctions(x -> x, null))),
        "supply maxCurvature");
  }

  @Test
  void nonIncreasingSlopeFunctionIsReportedAsUnreachable() {
    UnreachableTargetException e = assertThrows(UnreachableTargetException.class,
        () -> solve(Method.DKS, List.of("tanh"), NetworkMaps.ofFunctions(x -> 1.0, null)));
    assertHint(e, "check the structure");
  }

  @Test
  void otherArgumentErrors() {
    assertThrows(IllegalArgumentException.class, () -> ShapingSolver.solve(Method.DKS, List.of(),
        NetworkMaps.of(Architectures.plainChain(3)), DksTargets.defaults(),
        TatTargets.defaults()));
    IllegalArgumentException m =
        assertThrows(IllegalArgumentException.class, () -> Method.parse("kernel"));
    assertHint(m, "use DKS, TAT or UNTRANSFORMED");
    assertEquals(Method.TAT, Method.parse(" tat "));
    assertEquals(Method.UNTRANSFORMED, Method.parse("Untransformed"));
  }

  @Test
  void allErrorsShareTheBaseType() {
    for (Class<?> c : List.of(InvalidTargetException.class, UnsupportedActivationException.class,
        UnreachableTargetException.class, NoRootFoundException.class,
        MissingNetworkMapException.class)) {
      assertTrue(ShapingException.class.isAssignableFrom(c), c.getName());
    }
  }
}
