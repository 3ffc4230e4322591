package dev.dks.solver.init;

import static dev.dks.solver.init.TestMatrices.assertScaledIdentity;
import static dev.dks.solver.init.TestMatrices.gramColumns;
import static dev.dks.solver.init.TestMatrices.gramRows;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DeltaOrthogonalTest {

    private static final ScaledUniformOrthogonal SUO = new ScaledUniformOrthogonal();

    /** Extracts the in x out block at the given spatial index, row-major. */
    private static double[] tap(DenseTensor w, long... spatial) {
        long[] s = w.shape();
        int in = (int) s[s.length - 2];
        int out = (int) s[s.length - 1];
        double[] m = new double[in * out];
        long[] idx = new long[s.length];
        System.arraycopy(spatial, 0, idx, 0, spatial.length);
        for (int i = 0; i < in; i++) {
            for (int o = 0; o < out; o++) {
                idx[s.length - 2] = i;
                idx[s.length - 1] = o;
                m[i * out + o] = w.get(idx);
            }
        }
        return m;
    }

    @Test
    void conv2dCentreTapOnlyWithOrthonormalRows() {
        // [3, 3, 4, 8]: out > in, centre tap = sqrt(2) Q, W W^T = 2 I
        DenseTensor w = SUO.sample(new long[] {3, 3, 4, 8}, 21L);
        assertArrayEquals(new long[] {3, 3, 4, 8}, w.shape());
        for (int a = 0; a < 3; a++) {
            for (int b = 0; b < 3; b++) {
                double[] m = tap(w, a, b);
                if (a == 1 && b == 1) {
                    assertScaledIdentity(gramRows(m, 4, 8), 4, 2.0, 1e-12);
                } else {
                    for (double v : m) {
                        assertEquals(0.0, v, 0.0, "tap (" + a + ", " + b + ")");
                    }
                }
            }
        }
    }

    @Test
    void conv2dNonSquareSpatialWithOrthonormalColumns() {
        // [3, 5, 8, 4]: out < in, factor 1, centre (1, 2), W^T W = I
        DenseTensor w = SUO.sample(new long[] {3, 5, 8, 4}, 22L);
        assertScaledIdentity(gramColumns(tap(w, 1, 2), 8, 4), 4, 1.0, 1e-12);
        int nonZero = 0;
        for (int i = 0; i < w.size(); i++) {
            if (w.getFlat(i) != 0.0) {
                nonZero++;
            }
        }
        assertEquals(32, nonZero); // only the centre block (almost surely no exact zeros)
    }

    @Test
    void conv1dAndConv3d() {
        DenseTensor w1 = SUO.sample(new long[] {5, 3, 3}, 23L);
        double[] c1 = tap(w1, 2);
        assertScaledIdentity(gramColumns(c1, 3, 3), 3, 1.0, 1e-12);
        assertEquals(9, countNonZero(w1));

        DenseTensor w3 = SUO.sample(new long[] {3, 1, 3, 2, 6}, 24L);
        assertScaledIdentity(gramRows(tap(w3, 1, 0, 1), 2, 6), 2, 3.0, 1e-12);
        assertEquals(12, countNonZero(w3));
    }

    @Test
    void centreTapEqualsDenseKernelWithSameSeed() {
        DenseTensor conv = SUO.sample(new long[] {3, 3, 6, 10}, 31L);
        DenseTensor dense = SUO.sample(new long[] {6, 10}, 31L);
        assertArrayEquals(dense.values(), tap(conv, 1, 1), 0.0);
        assertEquals(conv, DeltaOrthogonal.sample(new long[] {3, 3, 6, 10}, 1.0, 31L));
    }

    @Test
    void oneByOneKernelIsJustTheDenseMatrix() {
        DenseTensor conv = SUO.sample(new long[] {1, 1, 5, 5}, 8L);
        assertArrayEquals(SUO.sample(new long[] {5, 5}, 8L).values(), conv.values(), 0.0);
    }

    @Test
    void evenSpatialSizeThrowsTypedExceptionNamingShape() {
        InvalidKernelShapeException e = assertThrows(InvalidKernelShapeException.class,
                () -> SUO.sample(new long[] {2, 3, 4, 4}, 1L));
        String msg = e.getMessage();
        assertTrue(msg.contains("[2, 3, 4, 4]"), msg);
        assertTrue(msg.toLowerCase().contains("odd"), msg);
        assertTrue(msg.contains("delta=false"), msg);
        assertTrue(msg.contains("24 x 4"), msg);

        e = assertThrows(InvalidKernelShapeException.class,
                () -> DeltaOrthogonal.sample(new long[] {3, 4, 2, 2}, 1.0, 1L));
        assertTrue(e.getMessage().contains("[3, 4, 2, 2]"), e.getMessage());
        assertTrue(e instanceof IllegalArgumentException);
    }

    @Test
    void rejectsRankTwoAndBadDims() {
        assertThrows(InvalidKernelShapeException.class,
                () -> DeltaOrthogonal.sample(new long[] {4, 4}, 1.0, 1L));
        assertThrows(InvalidKernelShapeException.class,
                () -> DeltaOrthogonal.sample(new long[] {3, 3, 0, 4}, 1.0, 1L));
        assertThrows(IllegalArgumentException.class,
                () -> DeltaOrthogonal.sample(new long[] {3, 3, 4, 4}, Double.POSITIVE_INFINITY,
                        1L));
    }

    private static int countNonZero(DenseTensor t) {
        int n = 0;
        for (int i = 0; i < t.size(); i++) {
            if (t.getFlat(i) != 0.0) {
                n++;
            }
        }
        return n;
    }
}
