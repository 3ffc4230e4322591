package dev.dks.rewriter.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Weight draws of depthwise kernels ({@link WeightRotations#rotateDepthwise}): a Delta kernel
 * [3, 3, C, 1] with +-1 centre taps stays a Delta kernel with +-1 centres (what a fresh
 * initialization draws), its signs flipped independently per channel: over 64 channels between
 * 10 and 54 flips (binomial(64, 1/2) leaves that range with probability below 1e-8), different
 * per seed and the same for one seed. With a channel multiplier M = 2 every channel's row keeps
 * its norm (an orthogonal Q) but changes (control: not the identity).
 */
class DepthwiseDrawsTest {
  @Test
  void deltaCentresGetIndependentSigns() {
    int c = 64;
    long[] shape = {3, 3, c, 1};
    float[] w = new float[9 * c];
    Random r = new Random(1);
    for (int ch = 0; ch < c; ch++) {
      w[4 * c + ch] = r.nextBoolean() ? 1f : -1f; // centre tap (1, 1)
    }
    float[] a = WeightRotations.rotateDepthwise(w, shape, 11);
    float[] b = WeightRotations.rotateDepthwise(w, shape, 12);
    assertArrayEquals(a, WeightRotations.rotateDepthwise(w, shape, 11));
    int flipsA = 0;
    int flipsB = 0;
    for (int i = 0; i < w.length; i++) {
      if (i / c != 4) {
        assertEquals(0f, a[i]);
        continue;
      }
      assertEquals(1.0, Math.abs(a[i]), 1e-6);
      flipsA += Math.signum(a[i]) != Math.signum(w[i]) ? 1 : 0;
      flipsB += Math.signum(b[i]) != Math.signum(w[i]) ? 1 : 0;
    }
    assertTrue(flipsA >= 10 && flipsA <= 54, "flips " + flipsA);
    assertTrue(flipsB >= 10 && flipsB <= 54, "flips " + flipsB);
    assertTrue(!java.util.Arrays.equals(a, b), "two seeds, two draws");
  }

  @Test
  void aChannelMultiplierIsRotatedKeepingEachChannelsNorm() {
    int c = 5;
    int m = 2;
    long[] shape = {3, 3, c, m};
    float[] w = new float[9 * c * m];
    Random r = new Random(2);
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) r.nextGaussian();
    }
    float[] a = WeightRotations.rotateDepthwise(w, shape, 3);
    double changed = 0;
    for (int ch = 0; ch < c; ch++) {
      double before = 0;
      double after = 0;
      for (int t = 0; t < 9; t++) {
        for (int j = 0; j < m; j++) {
          int i = (t * c + ch) * m + j;
          before += w[i] * w[i];
          after += a[i] * a[i];
          changed = Math.max(changed, Math.abs(w[i] - a[i]));
        }
      }
      assertEquals(before, after, 1e-5 * before, "channel " + ch);
    }
    assertTrue(changed > 1e-2, "rotated: " + changed);
  }
}
