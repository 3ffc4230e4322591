package dev.dks.benchmarks;

import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.network.Architectures;
import dev.dks.solver.network.NetworkMaps;
import java.util.List;

/**
 * The activation sets the benchmarks shape (names as {@link Activations#byName} takes them) and
 * the plain chain they are shaped on.
 */
final class BenchmarkActivations {
  /**
   * The smooth activations that both DKS and TAT shape on a plain chain of 50 layers (selu and
   * relu are refused by TAT, square has no DKS/TAT root there). Keep in step with the {@code @Param}
   * lists of {@link SolverBenchmark}, which must be compile-time constants.
   */
  static final List<String> SMOOTH = List.of(
      "tanh", "sigmoid", "softplus", "erf", "elu", "swish", "gelu", "gelu_exact", "atan", "asinh",
      "softsign", "bentid", "sin", "cos");

  /** Depth of the plain chain the per-activation solves use. */
  static final int CHAIN_DEPTH = 50;

  private BenchmarkActivations() {}

  static List<Activation> smooth() {
    return SMOOTH.stream().map(Activations::byName).toList();
  }

  /** The plain chain of {@link #CHAIN_DEPTH} layers. */
  static NetworkMaps plainChain() {
    return NetworkMaps.of(Architectures.plainChain(CHAIN_DEPTH));
  }
}
