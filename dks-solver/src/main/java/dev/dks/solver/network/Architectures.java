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
 * first, where the example network applies it (right after the stem conv), while the example's
 * subnetwork function applies it once after the last block. The maximal slope and curvature
 * functions are the same either way (their r, y -> x*y or y -> x+y, commute); the maximal C(0) used
 * by TAT with leaky ReLU is not, since C maps do not commute. Ours follows the network. Side by
 * side, TAT leaky ReLU, eta 0.9, ResNet-34 v1, w = 0.5: negative_slope 0.2914997935295105,
 * output_scale 1.357705904397794 here; 0.2913873791694641 and 1.357746904325517 from the
 * reference's map (ResNetV1StemOrderTest). The example's v1 block also drops its post-sum
 * activation when w = 0, which its map still counts; here every v1 block has one.
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
