package dev.dks.solver.network;

import java.util.List;

/**
 * What a {@link Structure} does to a propagated kernel quantity of type T: how a nonlinear layer
 * transforms it, how weighted averages (normalized sums with squared weights, concatenations with
 * width fractions) combine branches, and how the maximum over subnetworks is taken. Affine layers
 * without activation, average pooling and the like are the identity.
 *
 * @param <T> the propagated quantity (a scalar for the reference's {@code M(x, r)})
 */
public interface KernelSemantics<T> {
  /** A dense/conv layer followed by an activation. */
  T layer(T input);

  /**
   * A chain of {@code layers} dense/conv + activation layers joined by linear ops that mix no
   * channels ({@link Dag.Node#chain}): the second and later activations see the earlier ones'
   * outputs, not Gaussian pre-activations. The default composes {@link #layer} (the Gaussian
   * approximation); semantics that know the chain's own map override it.
   */
  default T chain(T input, int layers) {
    T v = input;
    for (int i = 0; i < layers; i++) {
      v = layer(v);
    }
    return v;
  }

  /** {@code sum_i fractions[i] * values[i]}, fractions summing to 1. */
  T weightedAverage(double[] fractions, List<T> values);

  /**
   * An elementwise product {@code z = a (.) b (.) ...} of streams computed from the input ({@link
   * Dag.Kind#PRODUCT}). The kernel model: at initialization the factors are independent given the
   * inputs (their last mixing layers have independent weights; a factor's unit sees another
   * factor's unit only through O(1/sqrt(width)) weights), so the expected uncentered second
   * moments multiply: {@code q_z = q_a q_b} and {@code k_z(x, x') = k_a(x, x') k_b(x, x')}, hence
   * the normalized C map of the product is the product of the factors' C maps, {@code C_z(c) =
   * C_a(c) C_b(c)}. A gate broadcast over locations (shape [N, 1, 1, C]) is a per-example stream
   * whose kernel is that of its pooled path.
   *
   * <p>For the shaping targets the product splits as {@code C_z = S(G(c))} with {@code G = (C_a
   * C_b)^(1/2)} the geometric mean of the factors' maps and {@code S(c) = c^2} a fixed map: S's
   * slope 2 at c = 1 is beyond any activation's reach (DKS's and TAT's activations have C'(1) at
   * least 1, so {@code C_z'(1) = C_a'(1) + C_b'(1) >= 2}, and a chain of k gated blocks at least
   * 2^k), so the solvers' semantics read a product as G, the part the activations shape (C'(1)
   * the mean of the factors', {@link JetSemantics}); C values, which targets can reach, multiply
   * ({@link ScalarSemantics}). What a semantics does is documented there.
   */
  T product(List<T> values);

  /** The maximum over candidate subnetworks. */
  T max(List<T> values);
}
