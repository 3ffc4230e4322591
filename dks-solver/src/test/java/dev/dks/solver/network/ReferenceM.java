package dev.dks.solver.network;

import java.util.function.DoubleUnaryOperator;

/**
 * The reference's subnetwork-maximizing function for its example ResNet, transcribed from the
 * pseudo-code of dks-math.md section 3.1 (independent of {@link Structure}).
 */
public final class ReferenceM {
  private ReferenceM() {}

  /** M(x, r) of the example modified ResNet. */
  public static double resnet(double x, DoubleUnaryOperator r, int depth, double w, boolean v2) {
    int[] blocks;
    boolean bottleneck;
    boolean[] projection;
    switch (depth) {
      case 18 -> {
        blocks = new int[] {2, 2, 2, 2};
        bottleneck = false;
        projection = new boolean[] {false, true, true, true};
      }
      case 34 -> {
        blocks = new int[] {3, 4, 6, 3};
        bottleneck = false;
        projection = new boolean[] {false, true, true, true};
      }
      case 50 -> {
        blocks = new int[] {3, 4, 6, 3};
        bottleneck = true;
        projection = new boolean[] {true, true, true, true};
      }
      case 101 -> {
        blocks = new int[] {3, 4, 23, 3};
        bottleneck = true;
        projection = new boolean[] {true, true, true, true};
      }
      case 152 -> {
        blocks = new int[] {3, 8, 36, 3};
        bottleneck = true;
        projection = new boolean[] {true, true, true, true};
      }
      case 200 -> {
        blocks = new int[] {3, 24, 36, 3};
        bottleneck = true;
        projection = new boolean[] {true, true, true, true};
      }
      default -> throw new IllegalArgumentException("depth " + depth);
    }
    int n = bottleneck && v2 ? 3 : (bottleneck || v2) ? 2 : 1;
    double b = x;
    for (int i = 0; i < n; i++) {
      b = r.applyAsDouble(b);
    }
    double w2 = w * w;
    for (int g = 0; g < 4; g++) {
      for (int j = 0; j < blocks[g]; j++) {
        double s = (j == 0 && projection[g] && v2) ? r.applyAsDouble(x) : x;
        double res = x;
        for (int i = 0; i < n; i++) {
          res = r.applyAsDouble(res);
        }
        x = w2 * s + (1 - w2) * res;
        if (!v2) {
          x = r.applyAsDouble(x);
        }
      }
    }
    x = r.applyAsDouble(x);
    return Math.max(x, b);
  }
}
