package dev.dks.solver.init;

import static dev.dks.solver.init.TestMatrices.assertScaledIdentity;
import static dev.dks.solver.init.TestMatrices.gramColumns;
import static dev.dks.solver.init.TestMatrices.gramRows;
import static dev.dks.solver.init.TestMatrices.norm;
import static dev.dks.solver.init.TestMatrices.transposeTimes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ScaledUniformOrthogonalTest {

    private static final ScaledUniformOrthogonal SUO = new ScaledUniformOrthogonal();

    @Test
    void defaults() {
        assertEquals(1.0, SUO.gain(), 0.0);
        assertTrue(SUO.delta());
    }

    @Test
    void scaleFactor() {
        assertEquals(1.0, ScaledUniformOrthogonal.scaleFactor(10, 10), 0.0);
        assertEquals(1.0, ScaledUniformOrthogonal.scaleFactor(64, 16), 0.0);
        assertEquals(2.0, ScaledUniformOrthogonal.scaleFactor(16, 64), 1e-15);
        assertEquals(Math.sqrt(3.0), ScaledUniformOrthogonal.scaleFactor(5, 15), 1e-15);
    }

    /** out >= in: W = sqrt(out/in) Q with orthonormal rows, so ||W^T x|| = sqrt(out/in)||x||. */
    @Test
    void exactNormScalingWhenOutAtLeastIn() {
        int[][] shapes = {{16, 64}, {5, 15}, {8, 8}, {1, 9}};
        Random xr = new Random(11);
        for (int[] sh : shapes) {
            int in = sh[0];
            int out = sh[1];
            DenseTensor w = SUO.sample(new long[] {in, out}, 100L + in);
            assertArrayEquals(new long[] {in, out}, w.shape());
            double[] wv = w.values();
            assertScaledIdentity(gramRows(wv, in, out), in, (double) out / in, 1e-12);
            for (int t = 0; t < 20; t++) {
                double[] x = new double[in];
                for (int i = 0; i < in; i++) {
                    x[i] = xr.nextGaussian();
                }
                double ratio = norm(transposeTimes(wv, in, out, x)) / norm(x);
                assertEquals(Math.sqrt((double) out / in), ratio, 1e-12);
            }
        }
    }

    /**
     * out < in: factor 1, orthonormal columns, E||W^T x||^2 / ||x||^2 = out / in for
     * x ~ N(0, I) (x/||x|| is uniform on the sphere, ||Q^T u||^2 ~ Beta(out/2, (in-out)/2)).
     * Per-unit mean square is therefore preserved in expectation.
     */
    @Test
    void normPreservedInExpectationWhenOutBelowIn() {
        int in = 64;
        int out = 16;
        DenseTensor w = SUO.sample(new long[] {in, out}, 5L);
        double[] wv = w.values();
        assertScaledIdentity(gramColumns(wv, in, out), out, 1.0, 1e-12);
        Random xr = new Random(12);
        int samples = 5000;
        double sum = 0;
        for (int t = 0; t < samples; t++) {
            double[] x = new double[in];
            for (int i = 0; i < in; i++) {
                x[i] = xr.nextGaussian();
            }
            double r = norm(transposeTimes(wv, in, out, x)) / norm(x);
            sum += (r * r / out) / (1.0 / in); // per-unit q_out / q_in
        }
        // Beta(8, 24): sd of ratio = in/out * sqrt(ab/((a+b)^2 (a+b+1))) ~ 0.30; SE ~ 0.0043
        assertEquals(1.0, sum / samples, 0.03);
    }

    @Test
    void gainMultiplies() {
        DenseTensor base = SUO.sample(new long[] {4, 12}, 9L);
        DenseTensor scaled = new ScaledUniformOrthogonal(0.5, true).sample(new long[] {4, 12}, 9L);
        for (int i = 0; i < base.size(); i++) {
            assertEquals(0.5 * base.getFlat(i), scaled.getFlat(i), 1e-15);
        }
        assertScaledIdentity(gramRows(scaled.values(), 4, 12), 4, 0.25 * 3.0, 1e-12);
    }

    @Test
    void deterministicInSeed() {
        long[] shape = {3, 3, 8, 16};
        assertEquals(SUO.sample(shape, 1L), SUO.sample(shape, 1L));
        assertFalse(SUO.sample(shape, 1L).equals(SUO.sample(shape, 2L)));
        assertEquals(SUO.sample(shape, new SplittableRandom(4)),
                SUO.sample(shape, new SplittableRandom(4)));
    }

    @Test
    void convWithoutDeltaIsDenseOverFlattenedFanIn() {
        // [2, 2, 3, 5]: even sizes allowed; in = 2*2*3 = 12 > out = 5, columns orthonormal.
        ScaledUniformOrthogonal dense = new ScaledUniformOrthogonal(1.0, false);
        long[] shape = {2, 2, 3, 5};
        DenseTensor w = dense.sample(shape, 3L);
        assertArrayEquals(shape, w.shape());
        assertScaledIdentity(gramColumns(w.values(), 12, 5), 5, 1.0, 1e-12);
        // and out > fan-in: [1, 3, 2, 10]: in = 6, rows orthonormal scaled by 10/6
        DenseTensor w2 = dense.sample(new long[] {1, 3, 2, 10}, 3L);
        assertScaledIdentity(gramRows(w2.values(), 6, 10), 6, 10.0 / 6.0, 1e-12);
        // same numbers as the rank-2 kernel [12, 5] with the same seed
        assertArrayEquals(SUO.sample(new long[] {12, 5}, 3L).values(), w.values(), 0.0);
    }

    @Test
    void rejectsInvalidShapes() {
        InvalidKernelShapeException e = assertThrows(InvalidKernelShapeException.class,
                () -> SUO.sample(new long[] {7}, 1L));
        assertTrue(e.getMessage().contains("[7]"), e.getMessage());
        assertThrows(InvalidKernelShapeException.class, () -> SUO.sample(new long[] {}, 1L));
        e = assertThrows(InvalidKernelShapeException.class,
                () -> SUO.sample(new long[] {3, 0}, 1L));
        assertTrue(e.getMessage().contains("[3, 0]"), e.getMessage());
        assertThrows(InvalidKernelShapeException.class,
                () -> SUO.sample(new long[] {3, 3, 0, 4}, 1L));
        assertThrows(InvalidKernelShapeException.class,
                () -> SUO.sample(new long[] {-1, 4}, 1L));
        assertThrows(InvalidKernelShapeException.class, () -> SUO.sample(null, 1L));
        assertThrows(InvalidKernelShapeException.class,
                () -> SUO.sample(new long[] {1L << 20, 1L << 20}, 1L));
        assertThrows(IllegalArgumentException.class,
                () -> new ScaledUniformOrthogonal(Double.NaN, true));
    }
}
