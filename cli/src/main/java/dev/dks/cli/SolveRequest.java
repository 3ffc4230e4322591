package dev.dks.cli;

import dev.dks.solver.activation.Activation;
import dev.dks.solver.solve.DksTargets;
import dev.dks.solver.solve.Method;
import dev.dks.solver.solve.ShapingSolution;
import dev.dks.solver.solve.ShapingSolver;
import dev.dks.solver.solve.TatTargets;
import java.util.List;

/**
 * A validated {@code dks solve} request.
 *
 * @param method DKS or TAT
 * @param activations the activations to shape in one network, in request order
 * @param network the network
 * @param dks the DKS targets (defaults under TAT)
 * @param tat the TAT targets (defaults under DKS)
 */
public record SolveRequest(
    Method method,
    List<Activation> activations,
    NetworkChoice network,
    DksTargets dks,
    TatTargets tat) {

  /** Runs the solve. */
  public ShapingSolution solve() {
    return ShapingSolver.solve(method, activations, network.maps(), dks, tat);
  }
}
