package dev.dks.solver.init;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link HaarOrthogonal#rotateLeft}: P A with P Haar on O(n). Checked by what characterizes it:
 * the column Gram A^T A is kept exactly (P is orthogonal), and averaged over seeds P M P^T is
 * (tr M / n) I (left invariance of the Haar measure), for the thin path (k < n, P never formed)
 * and the full path (k >= n).
 */
class HaarRotateLeftTest {
  private static double[] gaussian(int n, int k, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    double[] a = new double[n * k];
    for (int i = 0; i < a.length; i++) {
      a[i] = r.nextGaussian();
    }
    return a;
  }

  private static double[][] gram(double[] a, int n, int k) {
    double[][] g = new double[k][k];
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < k; j++) {
        for (int m = 0; m < n; m++) {
          g[i][j] += a[m * k + i] * a[m * k + j];
        }
      }
    }
    return g;
  }

  @Test
  void keepsTheColumnGramAndMoves() {
    for (int[] nk : new int[][] {{7, 3}, {4, 4}, {3, 5}}) {
      int n = nk[0];
      int k = nk[1];
      double[] a = gaussian(n, k, 3);
      double[] pa = HaarOrthogonal.rotateLeft(a, n, k, 9);
      double[][] want = gram(a, n, k);
      double[][] got = gram(pa, n, k);
      double moved = 0;
      for (int i = 0; i < a.length; i++) {
        moved = Math.max(moved, Math.abs(pa[i] - a[i]));
      }
      assertTrue(moved > 0.1, "rotated");
      for (int i = 0; i < k; i++) {
        for (int j = 0; j < k; j++) {
          assertEquals(want[i][j], got[i][j], 1e-10, n + "x" + k + " gram " + i + "," + j);
        }
      }
    }
  }

  /**
   * E[(P A)(P A)^T] = (||A||_F^2 / n) I. 4000 draws: the entries' standard error is below 0.02
   * of the diagonal; an unrotated A (negative control) is off by more than 0.3 of it.
   */
  @Test
  void averagesToAMultipleOfTheIdentityOnBothPaths() {
    for (int[] nk : new int[][] {{5, 2}, {3, 4}}) {
      int n = nk[0];
      int k = nk[1];
      double[] a = gaussian(n, k, 5);
      double fro = 0;
      for (double v : a) {
        fro += v * v;
      }
      double diag = fro / n;
      int draws = 4000;
      double[][] mean = new double[n][n];
      for (int d = 0; d < draws; d++) {
        double[] pa = HaarOrthogonal.rotateLeft(a, n, k, 100 + d);
        addOuter(mean, pa, n, k, 1.0 / draws);
      }
      double[][] unrotated = new double[n][n];
      addOuter(unrotated, a, n, k, 1.0);
      double err = 0;
      double controlErr = 0;
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
          double want = i == j ? diag : 0;
          err = Math.max(err, Math.abs(mean[i][j] - want));
          controlErr = Math.max(controlErr, Math.abs(unrotated[i][j] - want));
        }
      }
      assertTrue(err < 0.06 * diag, n + "x" + k + ": " + err + " vs diag " + diag);
      assertTrue(controlErr > 0.3 * diag, "control " + controlErr);
    }
  }

  private static void addOuter(double[][] acc, double[] a, int n, int k, double w) {
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        double s = 0;
        for (int l = 0; l < k; l++) {
          s += a[i * k + l] * a[j * k + l];
        }
        acc[i][j] += w * s;
      }
    }
  }
}
