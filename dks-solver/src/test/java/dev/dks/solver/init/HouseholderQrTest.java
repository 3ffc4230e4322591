package dev.dks.solver.init;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

class HouseholderQrTest {

    /** Column-major m x n matrix with N(0,1) entries from java.util.Random (independent RNG). */
    private static double[][] randomColumns(int m, int n, long seed) {
        Random r = new Random(seed);
        double[][] a = new double[n][m];
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < m; i++) {
                a[j][i] = r.nextGaussian();
            }
        }
        return a;
    }

    private static void checkFactorization(double[][] a) {
        int n = a.length;
        int m = a[0].length;
        double[][] copy = new double[n][];
        for (int j = 0; j < n; j++) {
            copy[j] = a[j].clone();
        }
        HouseholderQr qr = HouseholderQr.factorize(a);
        // input untouched
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < m; i++) {
                assertEquals(copy[j][i], a[j][i], 0.0);
            }
        }
        // R upper triangular, Q^T Q = I, Q R = A
        for (int j = 0; j < n; j++) {
            for (int i = j + 1; i < n; i++) {
                assertEquals(0.0, qr.r[j][i], 0.0, "R below diagonal");
            }
            for (int k = 0; k < n; k++) {
                double dot = 0.0;
                for (int i = 0; i < m; i++) {
                    dot += qr.q[j][i] * qr.q[k][i];
                }
                assertEquals(j == k ? 1.0 : 0.0, dot, 1e-12);
            }
        }
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < m; i++) {
                double s = 0.0;
                for (int k = 0; k <= j; k++) {
                    s += qr.q[k][i] * qr.r[j][k];
                }
                assertEquals(a[j][i], s, 1e-12, "(QR)(" + i + ", " + j + ")");
            }
        }
    }

    @Test
    void reconstructsSquareAndTallMatrices() {
        checkFactorization(randomColumns(1, 1, 1));
        checkFactorization(randomColumns(5, 5, 2));
        checkFactorization(randomColumns(40, 7, 3));
        checkFactorization(randomColumns(30, 30, 4));
    }

    @Test
    void handlesRankDeficientInput() {
        // second column is twice the first; third is zero
        double[][] a = {{1, 2, 2, 1}, {2, 4, 4, 2}, {0, 0, 0, 0}};
        checkFactorization(a);
    }

    @Test
    void knownSmallFactorization() {
        // A = [[3, 1], [4, 2]] (column-major {{3,4},{1,2}}): |R11| = 5, |R22| = |det| / 5 = 0.4
        HouseholderQr qr = HouseholderQr.factorize(new double[][] {{3, 4}, {1, 2}});
        assertEquals(5.0, Math.abs(qr.r[0][0]), 1e-15);
        assertEquals(0.4, Math.abs(qr.r[1][1]), 1e-15);
    }

    /**
     * Grouped reflections perform the one-column-at-a-time algorithm's floating-point operations
     * in the same order: the same Q and R bit for bit (signed zeros included), on Gaussian,
     * rank-deficient and sparse inputs (whose exact-zero dot products skip a reflection in some
     * columns only), with column counts below, at and off multiples of the group size.
     */
    @Test
    void equalsTheColumnAtATimeAlgorithmBitForBit() {
        double[][] sparse = randomColumns(17, 6, 11);
        for (int j = 0; j < 6; j++) {
            for (int i = 0; i < 17; i++) {
                if ((i + 2 * j) % 3 != 0) {
                    sparse[j][i] = 0.0;
                }
            }
        }
        sparse[4] = new double[17];
        sparse[5][3] = -0.0;
        double[][][] inputs = {randomColumns(1, 1, 1), randomColumns(3, 3, 2),
            randomColumns(9, 8, 5), randomColumns(61, 13, 6), randomColumns(40, 39, 7),
            {{1, 2, 2, 1}, {2, 4, 4, 2}, {0, 0, 0, 0}}, sparse};
        for (double[][] a : inputs) {
            HouseholderQr qr = HouseholderQr.factorize(a);
            double[][][] ref = ColumnHouseholderQr.factorize(a);
            for (int j = 0; j < a.length; j++) {
                assertArrayEquals(ref[0][j], qr.q[j], 0.0, "Q column " + j);
                assertArrayEquals(ref[1][j], qr.r[j], 0.0, "R column " + j);
                for (int i = 0; i < ref[0][j].length; i++) {
                    assertEquals(Double.doubleToRawLongBits(ref[0][j][i]),
                            Double.doubleToRawLongBits(qr.q[j][i]), "Q(" + i + ", " + j + ")");
                }
            }
        }
    }

    @Test
    void rejectsWideMatrix() {
        assertThrows(IllegalArgumentException.class,
                () -> HouseholderQr.factorize(new double[][] {{1}, {2}}));
    }
}
