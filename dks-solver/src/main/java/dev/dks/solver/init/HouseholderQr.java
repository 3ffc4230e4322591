package dev.dks.solver.init;

/**
 * Reduced QR factorization {@code A = Q R} of a tall matrix ({@code m >= n}) by Householder
 * reflections.
 *
 * <p>Storage: matrices are passed and returned <b>column-major</b> as {@code double[n][m]}
 * ({@code a[j][i]} = entry in row {@code i}, column {@code j}), which keeps the inner loops on
 * contiguous memory. {@code Q} is {@code m x n} with orthonormal columns and {@code R} is
 * {@code n x n} upper triangular. No sign normalization is applied: the diagonal of {@code R}
 * may have either sign (see {@link HaarOrthogonal} for the sign fix).
 *
 * <p>Kept rather than Hipparchus' {@code QRDecomposition}: that one only returns the full
 * {@code m x m} Q (a 2048 x 512 sample would need a 32 MB Q for 8 MB of columns used), on row-major
 * matrices, and its different operation order would change the last bits of every seeded
 * initialization users have already saved.
 */
final class HouseholderQr {

    /** Column-major {@code m x n} factor with orthonormal columns; null from {@link #factorizeR}. */
    final double[][] q;
    /** Column-major {@code n x n} upper-triangular factor. */
    final double[][] r;

    private HouseholderQr(double[][] q, double[][] r) {
        this.q = q;
        this.r = r;
    }

    /**
     * Factorizes {@code a}; the input array is not modified.
     *
     * @param a column-major {@code m x n} matrix, {@code m >= n >= 1}
     * @return the reduced factorization
     */
    static HouseholderQr factorize(double[][] a) {
        return factorize(a, true);
    }

    /**
     * The factor R of {@code a} alone ({@code q} is null): skips forming Q, about half the work
     * for a tall matrix.
     *
     * @param a column-major {@code m x n} matrix, {@code m >= n >= 1}
     * @return the factorization without Q
     */
    static HouseholderQr factorizeR(double[][] a) {
        return factorize(a, false);
    }

    private static HouseholderQr factorize(double[][] a, boolean withQ) {
        int n = a.length;
        if (n == 0) {
            throw new IllegalArgumentException("matrix must have at least one column");
        }
        int m = a[0].length;
        if (m < n) {
            throw new IllegalArgumentException(
                    "reduced QR needs rows >= columns, got " + m + " x " + n);
        }
        double[][] w = new double[n][];
        for (int j = 0; j < n; j++) {
            if (a[j].length != m) {
                throw new IllegalArgumentException("ragged column " + j);
            }
            w[j] = a[j].clone();
        }

        // Householder vectors: v[k] has length m - k and unit norm (or is all zero when the
        // reflection is skipped because the sub-column is already zero).
        double[][] v = new double[n][];
        double[][] r = new double[n][n];
        for (int k = 0; k < n; k++) {
            double[] col = w[k];
            double norm = 0.0;
            double scale = 0.0;
            for (int i = k; i < m; i++) {
                scale = Math.max(scale, Math.abs(col[i]));
            }
            if (scale > 0.0) {
                for (int i = k; i < m; i++) {
                    double t = col[i] / scale;
                    norm += t * t;
                }
                norm = scale * Math.sqrt(norm);
            }
            double[] vk = new double[m - k];
            v[k] = vk;
            if (norm == 0.0) {
                r[k][k] = 0.0; // nothing to annihilate: identity reflection
                for (int j = k + 1; j < n; j++) {
                    r[j][k] = w[j][k];
                }
                continue;
            }
            // alpha = -sign(x0) * ||x|| avoids cancellation in x0 - alpha.
            double alpha = col[k] >= 0.0 ? -norm : norm;
            for (int i = k; i < m; i++) {
                vk[i - k] = col[i];
            }
            vk[0] -= alpha;
            double vnorm2 = 0.0;
            for (double t : vk) {
                vnorm2 += t * t;
            }
            double inv = 1.0 / Math.sqrt(vnorm2);
            for (int i = 0; i < vk.length; i++) {
                vk[i] *= inv;
            }
            r[k][k] = alpha;
            for (int j = k + 1; j < n; j += GROUP) {
                reflect(vk, w, j, Math.min(n, j + GROUP), k);
            }
            for (int j = k + 1; j < n; j++) {
                r[j][k] = w[j][k];
            }
        }

        // Q = H_0 H_1 ... H_{n-1} applied to the first n columns of the m x m identity: column
        // j receives H_j, ..., H_0 in that order. Columns are processed GROUP at a time (each
        // still receives its reflections in the same order), which keeps the group in cache
        // while the Householder vectors stream past.
        if (!withQ) {
            return new HouseholderQr(null, r);
        }
        double[][] q = new double[n][m];
        for (int j0 = 0; j0 < n; j0 += GROUP) {
            int j1 = Math.min(n, j0 + GROUP);
            for (int j = j0; j < j1; j++) {
                q[j][j] = 1.0;
            }
            for (int k = j1 - 1; k >= 0; k--) {
                reflect(v[k], q, Math.max(j0, k), j1, k);
            }
        }
        return new HouseholderQr(q, r);
    }

    /** Columns reflected together; their dot products run as independent chains. */
    private static final int GROUP = 4;

    /**
     * Applies {@code I - 2 v v^T} (acting on entries {@code offset..m-1}) to the columns {@code
     * x[from..to-1]} (at most {@link #GROUP}). Each column gets exactly the operations of {@link
     * #reflect(double[], double[], int)} in the same order, so the results are the same bit for
     * bit; computing four columns' dot products in one loop gives the processor four independent
     * addition chains instead of one (a floating-point sum is never reordered by the JIT, so a
     * single dot product runs at the latency of one addition per element).
     */
    private static void reflect(double[] v, double[][] x, int from, int to, int offset) {
        if (to - from < GROUP) {
            for (int j = from; j < to; j++) {
                reflect(v, x[j], offset);
            }
            return;
        }
        double[] x0 = x[from];
        double[] x1 = x[from + 1];
        double[] x2 = x[from + 2];
        double[] x3 = x[from + 3];
        double d0 = 0.0;
        double d1 = 0.0;
        double d2 = 0.0;
        double d3 = 0.0;
        for (int i = 0; i < v.length; i++) {
            double vi = v[i];
            d0 += vi * x0[offset + i];
            d1 += vi * x1[offset + i];
            d2 += vi * x2[offset + i];
            d3 += vi * x3[offset + i];
        }
        update(v, x0, offset, d0);
        update(v, x1, offset, d1);
        update(v, x2, offset, d2);
        update(v, x3, offset, d3);
    }

    /** Applies {@code I - 2 v v^T} (acting on entries {@code offset..m-1}) to {@code x}. */
    private static void reflect(double[] v, double[] x, int offset) {
        double dot = 0.0;
        for (int i = 0; i < v.length; i++) {
            dot += v[i] * x[offset + i];
        }
        update(v, x, offset, dot);
    }

    /** {@code x[offset + i] -= 2 dot v[i]}, nothing when {@code dot == 0}. */
    private static void update(double[] v, double[] x, int offset, double dot) {
        if (dot == 0.0) {
            return;
        }
        double f = 2.0 * dot;
        for (int i = 0; i < v.length; i++) {
            x[offset + i] -= f * v[i];
        }
    }
}
