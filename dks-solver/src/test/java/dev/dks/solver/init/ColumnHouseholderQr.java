package dev.dks.solver.init;

/**
 * The one-column-at-a-time Householder QR that {@link HouseholderQr} had before it reflected
 * columns in groups, kept as the oracle {@link HouseholderQrTest} compares it with bit for bit.
 * Returns {@code {q, r}} in HouseholderQr's layout.
 */
final class ColumnHouseholderQr {
    private ColumnHouseholderQr() {
    }

    static double[][][] factorize(double[][] a) {
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
            for (int j = k + 1; j < n; j++) {
                reflect(vk, w[j], k);
                r[j][k] = w[j][k];
            }
        }

        // Q = H_0 H_1 ... H_{n-1} applied to the first n columns of the m x m identity.
        double[][] q = new double[n][m];
        for (int j = 0; j < n; j++) {
            q[j][j] = 1.0;
            for (int k = Math.min(j, n - 1); k >= 0; k--) {
                reflect(v[k], q[j], k);
            }
        }
        return new double[][][] {q, r};
    }

    /** Applies {@code I - 2 v v^T} (acting on entries {@code offset..m-1}) to {@code x}. */
    private static void reflect(double[] v, double[] x, int offset) {
        double dot = 0.0;
        for (int i = 0; i < v.length; i++) {
            dot += v[i] * x[offset + i];
        }
        if (dot == 0.0) {
            return;
        }
        double f = 2.0 * dot;
        for (int i = 0; i < v.length; i++) {
            x[offset + i] -= f * v[i];
        }
    }
}
