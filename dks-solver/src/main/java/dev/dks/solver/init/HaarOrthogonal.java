package dev.dks.solver.init;

import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Samples Haar-distributed (uniformly random) orthogonal matrices, seeded and deterministic.
 *
 * <p><b>Result</b>: a {@code rows x cols} matrix stored <b>row-major</b> in a
 * {@code double[rows * cols]} (entry {@code (i, j)} at index {@code i * cols + j}).
 * If {@code rows >= cols} its columns are orthonormal ({@code Q^T Q = I_cols}); otherwise its
 * rows are orthonormal ({@code Q Q^T = I_rows}). For square shapes it is a Haar-random element
 * of O(n) (both determinants equally likely).
 *
 * <p><b>Algorithm</b>: let {@code m = max(rows, cols)}, {@code n = min(rows, cols)}. Fill an
 * {@code m x n} matrix {@code G} with i.i.d. N(0, 1) draws in row-major order, take the reduced
 * Householder QR {@code G = Q R}, multiply column {@code j} of {@code Q} by
 * {@code sign(R_jj)} (with {@code sign(0) = +1}) so the factorization is the unique one with
 * {@code R_jj >= 0} — this is what makes {@code Q} exactly Haar rather than biased by the
 * reflector sign convention — and transpose if {@code rows < cols}.
 *
 * <p><b>Determinism</b>: for a given seed and shape the output is bit-for-bit reproducible
 * (pure Java arithmetic on a {@link SplittableRandom} stream); it is not bit-compatible with the
 * random streams of JAX, TensorFlow or PyTorch.
 */
public final class HaarOrthogonal {

    private HaarOrthogonal() {
    }

    /**
     * Samples a Haar orthogonal {@code rows x cols} matrix from a fresh
     * {@code new SplittableRandom(seed)}.
     *
     * @param rows number of rows, at least 1
     * @param cols number of columns, at least 1
     * @param seed random seed
     * @return row-major {@code rows * cols} array
     */
    public static double[] sample(int rows, int cols, long seed) {
        return sample(rows, cols, new SplittableRandom(seed));
    }

    /**
     * Samples a Haar orthogonal {@code rows x cols} matrix, consuming draws from {@code rng}
     * (useful to initialize several layers from one stream).
     *
     * @param rows number of rows, at least 1
     * @param cols number of columns, at least 1
     * @param rng random source; advanced by this call
     * @return row-major {@code rows * cols} array
     */
    public static double[] sample(int rows, int cols, SplittableRandom rng) {
        Objects.requireNonNull(rng, "rng");
        if (rows < 1 || cols < 1) {
            throw new IllegalArgumentException(
                    "matrix dimensions must be >= 1, got " + rows + " x " + cols);
        }
        if ((long) rows * cols > DenseTensor.MAX_ELEMENTS) {
            throw new IllegalArgumentException(
                    "matrix " + rows + " x " + cols + " is too large for a Java array");
        }
        int m = Math.max(rows, cols);
        int n = Math.min(rows, cols);

        // Gaussian m x n matrix, drawn in row-major order, stored column-major for the QR.
        GaussianSampler gauss = new GaussianSampler(rng);
        double[][] g = new double[n][m];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                g[j][i] = gauss.next();
            }
        }

        HouseholderQr qr = HouseholderQr.factorize(g);
        double[][] q = qr.q;
        for (int j = 0; j < n; j++) {
            if (qr.r[j][j] < 0.0) {
                double[] col = q[j];
                for (int i = 0; i < m; i++) {
                    col[i] = -col[i];
                }
            }
        }

        double[] out = new double[rows * cols];
        if (rows >= cols) {
            // out(i, j) = Q(i, j), Q is rows x cols.
            for (int j = 0; j < cols; j++) {
                double[] col = q[j];
                for (int i = 0; i < rows; i++) {
                    out[i * cols + j] = col[i];
                }
            }
        } else {
            // out(i, j) = Q(j, i), Q is cols x rows: column i of Q becomes row i of out.
            for (int i = 0; i < rows; i++) {
                System.arraycopy(q[i], 0, out, i * cols, cols);
            }
        }
        return out;
    }

    /**
     * {@code P A} for a Haar-random orthogonal {@code n x n} matrix {@code P} drawn from a fresh
     * {@code new SplittableRandom(seed)}, with {@code A} row-major {@code n x k}.
     *
     * <p>When {@code k < n}, {@code P} is never formed: with the reduced QR {@code A = U R} ({@code
     * U} {@code n x k} with orthonormal columns), {@code P U} is a Haar-random {@code n x k}
     * matrix with orthonormal columns whatever {@code U} is, so {@code P A} has exactly the
     * distribution of {@code S R} with {@code S = sample(n, k, seed)}. That costs {@code O(n
     * k^2)} instead of the {@code O(n^3)} of a full {@code P} (a 1280-wide layer read by a
     * 100-wide one: about 150x fewer flops). The numbers differ from forming {@code P} with the
     * same seed; the distribution does not. When {@code k >= n}, {@code P = sample(n, n, seed)}.
     *
     * @param a row-major {@code n x k} matrix (not modified)
     * @param n rows of {@code a}, the size of {@code P}
     * @param k columns of {@code a}
     * @param seed random seed
     * @return row-major {@code n x k} array
     */
    public static double[] rotateLeft(double[] a, int n, int k, long seed) {
        if (a.length != (long) n * k) {
            throw new IllegalArgumentException(
                    "matrix has " + a.length + " entries, not " + n + " x " + k);
        }
        double[] out = new double[n * k];
        if (k >= n) {
            double[] p = sample(n, n, seed);
            for (int i = 0; i < n; i++) {
                for (int m = 0; m < n; m++) {
                    double pim = p[i * n + m];
                    for (int j = 0; j < k; j++) {
                        out[i * k + j] += pim * a[m * k + j];
                    }
                }
            }
            return out;
        }
        double[][] cols = new double[k][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < k; j++) {
                cols[j][i] = a[i * k + j];
            }
        }
        double[][] r = HouseholderQr.factorizeR(cols).r; // column-major: R(l, j) = r[j][l]
        double[] s = sample(n, k, seed);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < k; j++) {
                double acc = 0;
                for (int l = 0; l <= j; l++) {
                    acc += s[i * k + l] * r[j][l];
                }
                out[i * k + j] = acc;
            }
        }
        return out;
    }
}
