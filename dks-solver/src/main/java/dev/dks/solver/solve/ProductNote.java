package dev.dks.solver.solve;

import dev.dks.solver.network.NetworkMaps;

/**
 * The note a DKS or TAT (smooth) solve adds to every activation when the network multiplies
 * streams ({@code Dag.Kind#PRODUCT}, e.g. squeeze-and-excitation gates).
 *
 * <p>Why: a product's C map is the product of its factors', {@code C_z = C_a C_b = G^2} with G
 * their geometric mean. DKS's activations have C'(1) at least 1 (C(0) = 0), TAT's smooth ones
 * C'(1) = 1, so {@code C_z'(1) >= 2}: the squaring is out of any activation's reach, and a network
 * of k gated blocks in series has C'(1) at least 2^k (the selfie segmenter: 2^18). The solvers
 * therefore aim the part the activations shape (each product read as G, {@link
 * NetworkMaps}) at zeta or tau, and say that the network's own C'(1) and C''(1) are larger; the
 * kernel check predicts the products as they are.
 */
final class ProductNote {
  private ProductNote() {}

  /** The note, or null when the network has no products. */
  static String of(NetworkMaps network, String target) {
    if (!network.hasProducts()) {
      return null;
    }
    return "the network multiplies streams (gates): each product's C map is the square of its "
        + "factors' geometric mean, a squaring no activation can undo, so " + target
        + " applies to the shaped part (products read as that mean) and the network's own C'(1) "
        + "is larger";
  }
}
