package dev.dks.solver.init;

import static dev.dks.solver.init.TestMatrices.assertScaledIdentity;
import static dev.dks.solver.init.TestMatrices.gramColumns;
import static dev.dks.solver.init.TestMatrices.gramRows;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HaarOrthogonalTest {

    @ParameterizedTest
    @CsvSource({"1,1", "2,2", "3,3", "17,17", "64,64", "10,3", "100,7", "3,10", "7,100", "1,9",
        "9,1"})
    void orthonormalColumnsOrRows(int rows, int cols) {
        double[] q = HaarOrthogonal.sample(rows, cols, 12345L + rows * 1000L + cols);
        assertEquals(rows * cols, q.length);
        if (rows >= cols) {
            assertScaledIdentity(gramColumns(q, rows, cols), cols, 1.0, 1e-12);
        } else {
            assertScaledIdentity(gramRows(q, rows, cols), rows, 1.0, 1e-12);
        }
        if (rows == cols) {
            assertScaledIdentity(gramRows(q, rows, cols), rows, 1.0, 1e-12);
        }
    }

    @Test
    void deterministicForEqualSeeds() {
        assertArrayEquals(HaarOrthogonal.sample(8, 5, 42L), HaarOrthogonal.sample(8, 5, 42L));
        assertArrayEquals(HaarOrthogonal.sample(5, 8, 42L), HaarOrthogonal.sample(5, 8, 42L));
        SplittableRandom a = new SplittableRandom(7);
        SplittableRandom b = new SplittableRandom(7);
        assertArrayEquals(HaarOrthogonal.sample(4, 4, a), HaarOrthogonal.sample(4, 4, b));
        assertArrayEquals(HaarOrthogonal.sample(4, 4, a), HaarOrthogonal.sample(4, 4, b));
    }

    @Test
    void differsForDifferentSeedsAndSuccessiveDraws() {
        assertFalse(Arrays.equals(HaarOrthogonal.sample(8, 5, 1L),
                HaarOrthogonal.sample(8, 5, 2L)));
        SplittableRandom rng = new SplittableRandom(3);
        assertFalse(Arrays.equals(HaarOrthogonal.sample(6, 6, rng),
                HaarOrthogonal.sample(6, 6, rng)));
    }

    @Test
    void wideIsTransposeOfTallWithSameDraws() {
        // Same seed, transposed shape: identical Gaussian draws, so wide = tall^T.
        double[] tall = HaarOrthogonal.sample(6, 3, 99L);
        double[] wide = HaarOrthogonal.sample(3, 6, 99L);
        for (int i = 0; i < 6; i++) {
            for (int j = 0; j < 3; j++) {
                assertEquals(tall[i * 3 + j], wide[j * 6 + i], 0.0);
            }
        }
    }

    /**
     * Haar moments for O(3): E[Q_ij] = 0, E[trace Q] = 0 (Var = 1), E[det Q] = 0 (det = +-1),
     * E[Q_11^2] = 1/3 with Q_11^2 ~ Beta(1/2, 1), Var = 4/45. Without the sign(R_jj) fix,
     * Householder QR gives Q_11 <= 0 always, which these checks would catch.
     * Bounds are 5 standard errors; the seed is fixed so the test cannot flake.
     */
    @Test
    void haarMomentsFor3x3() {
        int samples = 20000;
        SplittableRandom rng = new SplittableRandom(2024);
        double sumTrace = 0;
        double sumQ11 = 0;
        double sumQ11Sq = 0;
        double sumDet = 0;
        double sumQ23 = 0;
        for (int s = 0; s < samples; s++) {
            double[] q = HaarOrthogonal.sample(3, 3, rng);
            sumTrace += q[0] + q[4] + q[8];
            sumQ11 += q[0];
            sumQ11Sq += q[0] * q[0];
            sumDet += TestMatrices.det3(q);
            sumQ23 += q[5];
        }
        double se1 = 1.0 / Math.sqrt(samples);
        assertEquals(0.0, sumTrace / samples, 5 * se1, "mean trace");
        assertEquals(0.0, sumDet / samples, 5 * se1, "mean det");
        double seEntry = Math.sqrt(1.0 / 3.0 / samples);
        assertEquals(0.0, sumQ11 / samples, 5 * seEntry, "mean Q11");
        assertEquals(0.0, sumQ23 / samples, 5 * seEntry, "mean Q23");
        double seSq = Math.sqrt(4.0 / 45.0 / samples);
        assertEquals(1.0 / 3.0, sumQ11Sq / samples, 5 * seSq, "mean Q11^2");
    }

    /** Tall 5 x 2: each column is uniform on S^4, so E[Q_11^2] = 1/5, Var = 8/175. */
    @Test
    void firstEntrySquaredMeanForTallMatrix() {
        int samples = 20000;
        SplittableRandom rng = new SplittableRandom(77);
        double sum = 0;
        double sumFirst = 0;
        for (int s = 0; s < samples; s++) {
            double[] q = HaarOrthogonal.sample(5, 2, rng);
            sum += q[0] * q[0];
            sumFirst += q[0];
        }
        double se = Math.sqrt(8.0 / 175.0 / samples);
        assertEquals(0.2, sum / samples, 5 * se);
        assertEquals(0.0, sumFirst / samples, 5 * Math.sqrt(0.2 / samples));
    }

    @Test
    void signsOfDiagonalAreBalanced() {
        // With the sign fix, Q_11 of a Haar matrix is positive half of the time.
        int samples = 10000;
        SplittableRandom rng = new SplittableRandom(5);
        int positive = 0;
        for (int s = 0; s < samples; s++) {
            if (HaarOrthogonal.sample(4, 4, rng)[0] > 0) {
                positive++;
            }
        }
        double frac = positive / (double) samples;
        assertTrue(Math.abs(frac - 0.5) < 5 * 0.5 / Math.sqrt(samples), "fraction " + frac);
    }

    @Test
    void rejectsBadDimensions() {
        assertThrows(IllegalArgumentException.class, () -> HaarOrthogonal.sample(0, 3, 1L));
        assertThrows(IllegalArgumentException.class, () -> HaarOrthogonal.sample(3, -1, 1L));
        assertThrows(IllegalArgumentException.class,
                () -> HaarOrthogonal.sample(100000, 100000, 1L));
    }
}
