package dev.dks.cli;

import dev.dks.solver.network.Architectures;
import dev.dks.solver.network.NetworkMaps;
import dev.dks.solver.network.Structure;

/**
 * The network a solve targets, as chosen on the command line: a plain chain ({@code --depth}) or
 * a ResNet ({@code --resnet}, {@code --shortcut-weight}, {@code --v1}).
 *
 * @param resnet true for a ResNet, false for a plain chain
 * @param depth the chain's number of nonlinear layers, or the ResNet's nominal depth
 * @param shortcutWeight the ResNet shortcut weight w in [0, 1] (0 for a chain)
 * @param v2 true for pre-activation (v2) ResNet blocks (true for a chain, where it is unused)
 */
public record NetworkChoice(boolean resnet, int depth, double shortcutWeight, boolean v2) {

  /** A plain chain of {@code depth} nonlinear layers. */
  public static NetworkChoice chain(int depth) {
    return new NetworkChoice(false, depth, 0.0, true);
  }

  /** A ResNet of a standard depth. */
  public static NetworkChoice resNet(int depth, double shortcutWeight, boolean v2) {
    return new NetworkChoice(true, depth, shortcutWeight, v2);
  }

  /** The structure (validates the depth and shortcut weight). */
  public Structure structure() {
    return resnet ? Architectures.resnet(depth, shortcutWeight, v2)
        : Architectures.plainChain(depth);
  }

  /** The network maps of {@link #structure()}. */
  public NetworkMaps maps() {
    return NetworkMaps.of(structure());
  }

  /** {@code "chain"} or {@code "resnet"}. */
  public String kind() {
    return resnet ? "resnet" : "chain";
  }

  /** {@code "v1"} or {@code "v2"}. */
  public String version() {
    return v2 ? "v2" : "v1";
  }

  /** A phrase for humans, e.g. "a ResNet-50 (v2, shortcut weight 0.0)". */
  public String describe() {
    return resnet
        ? "a ResNet-" + depth + " (" + version() + ", shortcut weight " + shortcutWeight + ")"
        : "a plain chain of " + depth + " nonlinear layer" + (depth == 1 ? "" : "s");
  }
}
