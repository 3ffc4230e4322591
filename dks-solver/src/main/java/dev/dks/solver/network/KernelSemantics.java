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

  /** The maximum over candidate subnetworks. */
  T max(List<T> values);
}
