package dev.dks.solver.solve;

import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.ShapingParams;
import dev.dks.solver.network.NetworkMaps;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Entry point: shapes a network's activations by DKS, TAT or not at all (the reference's {@code
 * get_transformed_activations}). Example:
 *
 * <pre>{@code
 * ShapingSolution s = ShapingSolver.solve(Method.DKS, List.of(Activations.byName("tanh")),
 *     NetworkMaps.of(Architectures.plainChain(50)), DksTargets.defaults(), TatTargets.defaults());
 * ShapingParams p = s.get("tanh").params();
 * }</pre>
 */
public final class ShapingSolver {
  private ShapingSolver() {}

  /** Solves with the targets of the chosen method (the other targets are ignored). */
  public static ShapingSolution solve(
      Method method,
      List<Activation> activations,
      NetworkMaps network,
      DksTargets dks,
      TatTargets tat) {
    if (activations.isEmpty()) {
      throw new IllegalArgumentException("no activation to shape: name at least one");
    }
    return switch (method) {
      case DKS -> DksSolver.solve(activations, network, dks);
      case TAT -> TatSolver.solve(activations, network, tat);
      case UNTRANSFORMED -> untransformed(activations);
    };
  }

  private static ShapingSolution untransformed(List<Activation> activations) {
    Map<String, ShapedActivation> out = new LinkedHashMap<>();
    for (Activation a : activations) {
      out.computeIfAbsent(a.id(), id -> new ShapedActivation(a, ShapingParams.IDENTITY,
          KernelValues.of(a), new NetworkKernelValues(Double.NaN, Double.NaN, Double.NaN), -1, 0,
          List.of()));
    }
    return new ShapingSolution(Method.UNTRANSFORMED, Double.NaN, out);
  }
}
