package dev.dks.solver.network;

import java.util.Arrays;

/**
 * The ResNet depths of He et al. (2016) and their block layout: blocks per group, whether blocks
 * are bottlenecks (1x1, 3x3, 1x1 convs) and which groups start with a projection shortcut.
 *
 * @param depth nominal depth (18, 34, 50, 101, 152 or 200)
 * @param blocksPerGroup number of residual blocks in each of the four groups
 * @param bottleneck true for bottleneck blocks (depth &gt;= 50)
 * @param projection per group: whether its first block has a projection shortcut
 */
public record ResNetConfig(
    int depth, int[] blocksPerGroup, boolean bottleneck, boolean[] projection) {

  /** The supported depths. */
  public static final int[] DEPTHS = {18, 34, 50, 101, 152, 200};

  /** The configuration of a standard depth. */
  public static ResNetConfig of(int depth) {
    boolean[] basicProjection = {false, true, true, true};
    boolean[] allProjection = {true, true, true, true};
    return switch (depth) {
      case 18 -> new ResNetConfig(18, new int[] {2, 2, 2, 2}, false, basicProjection);
      case 34 -> new ResNetConfig(34, new int[] {3, 4, 6, 3}, false, basicProjection);
      case 50 -> new ResNetConfig(50, new int[] {3, 4, 6, 3}, true, allProjection);
      case 101 -> new ResNetConfig(101, new int[] {3, 4, 23, 3}, true, allProjection);
      case 152 -> new ResNetConfig(152, new int[] {3, 8, 36, 3}, true, allProjection);
      case 200 -> new ResNetConfig(200, new int[] {3, 24, 36, 3}, true, allProjection);
      default -> throw new IllegalArgumentException("unsupported ResNet depth " + depth
          + ": use one of " + Arrays.toString(DEPTHS));
    };
  }
}
