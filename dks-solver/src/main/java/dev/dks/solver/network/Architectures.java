package dev.dks.solver.network;

import java.util.ArrayList;
import java.util.List;

/**
 * Structures of common architectures, for the solver and for tests.
 *
 * <p>ResNets follow {@code dks-math.md} section 3.1: every residual block is the normalized sum
 * {@code w * shortcut + sqrt(1 - w^2) * residual} (w = 0: no skip connections), the stem conv,
 * projection convs, pooling and the logits layer are affine (identity), and the result is the
 * maximum over the whole network and a single residual branch.
 *
 * <p>One deliberate difference from the reference's example: for v1 the stem activation is applied
 * first, where it sits in the network, while the reference applies one activation at the end.
 * The maximal slope and curvature functions are the same either way (both are compositions of
 * affine maps); the maximal C(0) used by TAT with leaky ReLU differs slightly (e.g. ResNet-18 v1,
 * w = 0.3, s = 0.3: 0.79505 here, 0.79500 in the reference) and ours follows the real network.
 */
public final class Architectures {
  private Architectures() {}

  /** A plain chain of {@code depth} nonlinear layers: slope {@code x^L}, curvature {@code L x}. */
  public static Structure plainChain(int depth) {
    if (depth < 1) {
      throw new IllegalArgumentException("a plain chain needs depth >= 1, got " + depth);
    }
    return Structure.chain(depth);
  }

  /**
   * A ResNet of the given depth with shortcut weight w in [0, 1].
   *
   * @param v2 true for pre-activation (v2) blocks, false for v1 (activation after the sum)
   */
  public static Structure resnet(int depth, double shortcutWeight, boolean v2) {
    if (!(shortcutWeight >= 0 && shortcutWeight <= 1)) {
      throw new IllegalArgumentException(
          "shortcut weight must be in [0, 1] (0 removes the skips), got " + shortcutWeight);
    }
    ResNetConfig cfg = ResNetConfig.of(depth);
    int n = cfg.bottleneck() && v2 ? 3 : (cfg.bottleneck() || v2) ? 2 : 1;
    double[] weights = {shortcutWeight, Math.sqrt(1 - shortcutWeight * shortcutWeight)};
    List<Structure> body = new ArrayList<>();
    body.add(Structure.affine()); // stem conv (max-pool is not modelled)
    if (!v2) {
      body.add(Structure.layer()); // v1: stem activation
    }
    for (int g = 0; g < cfg.blocksPerGroup().length; g++) {
      for (int j = 0; j < cfg.blocksPerGroup()[g]; j++) {
        boolean preActivatedShortcut = j == 0 && cfg.projection()[g] && v2;
        Structure shortcut = preActivatedShortcut ? Structure.layer() : Structure.affine();
        body.add(Structure.normalizedSum(weights, shortcut, Structure.chain(n)));
        if (!v2) {
          body.add(Structure.layer());
        }
      }
    }
    if (v2) {
      body.add(Structure.layer()); // final activation before pooling and logits
    }
    return Structure.max(Structure.series(body), Structure.chain(n));
  }
}
