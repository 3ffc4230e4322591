package dev.dks.solver.init;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Small row-major matrix helpers for the init tests. */
final class TestMatrices {

    private TestMatrices() {
    }

    /** Returns A^T A for a row-major rows x cols matrix A (cols x cols result). */
    static double[] gramColumns(double[] a, int rows, int cols) {
        double[] g = new double[cols * cols];
        for (int i = 0; i < cols; i++) {
            for (int j = 0; j < cols; j++) {
                double s = 0.0;
                for (int k = 0; k < rows; k++) {
                    s += a[k * cols + i] * a[k * cols + j];
                }
                g[i * cols + j] = s;
            }
        }
        return g;
    }

    /** Returns A A^T for a row-major rows x cols matrix A (rows x rows result). */
    static double[] gramRows(double[] a, int rows, int cols) {
        double[] g = new double[rows * rows];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < rows; j++) {
                double s = 0.0;
                for (int k = 0; k < cols; k++) {
                    s += a[i * cols + k] * a[j * cols + k];
                }
                g[i * rows + j] = s;
            }
        }
        return g;
    }

    /** Asserts that a row-major n x n matrix equals c * I to within tol entrywise. */
    static void assertScaledIdentity(double[] g, int n, double c, double tol) {
        assertEquals(n * n, g.length);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double expected = i == j ? c : 0.0;
                assertEquals(expected, g[i * n + j], tol, "entry (" + i + ", " + j + ")");
            }
        }
    }

    /** y = A^T x for a row-major rows x cols matrix A and x of length rows. */
    static double[] transposeTimes(double[] a, int rows, int cols, double[] x) {
        double[] y = new double[cols];
        for (int k = 0; k < rows; k++) {
            double xk = x[k];
            for (int j = 0; j < cols; j++) {
                y[j] += a[k * cols + j] * xk;
            }
        }
        return y;
    }

    static double norm(double[] v) {
        double s = 0.0;
        for (double t : v) {
            s += t * t;
        }
        return Math.sqrt(s);
    }

    /** Determinant of a row-major 3 x 3 matrix. */
    static double det3(double[] m) {
        return m[0] * (m[4] * m[8] - m[5] * m[7])
                - m[1] * (m[3] * m[8] - m[5] * m[6])
                + m[2] * (m[3] * m[7] - m[4] * m[6]);
    }
}
