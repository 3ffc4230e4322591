package dev.dks.solver.init;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class DenseTensorTest {

    @Test
    void rowMajorIndexing() {
        double[] v = new double[24];
        for (int i = 0; i < v.length; i++) {
            v[i] = i;
        }
        DenseTensor t = DenseTensor.of(new long[] {2, 3, 4}, v);
        assertEquals(3, t.rank());
        assertEquals(24, t.size());
        assertEquals(4, t.dim(-1));
        assertEquals(2, t.dim(0));
        // (1, 2, 3) -> 1*12 + 2*4 + 3 = 23 ; (0, 1, 0) -> 4
        assertEquals(23.0, t.get(1, 2, 3), 0.0);
        assertEquals(4.0, t.get(0, 1, 0), 0.0);
        assertEquals(13, t.flatIndex(1, 0, 1));
        assertThrows(IndexOutOfBoundsException.class, () -> t.get(2, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> t.get(0, 0));
    }

    @Test
    void floatCopyAndDefensiveCopies() {
        double[] v = {0.1, -2.5, 1e-3};
        long[] s = {3};
        DenseTensor t = DenseTensor.of(s, v);
        v[0] = 99;
        s[0] = 7;
        assertArrayEquals(new long[] {3}, t.shape());
        assertArrayEquals(new float[] {0.1f, -2.5f, 1e-3f}, t.toFloatArray(), 0f);
        t.values()[1] = 5;
        assertEquals(-2.5, t.getFlat(1), 0.0);
    }

    @Test
    void scalarsEmptyAndEquality() {
        DenseTensor scalar = DenseTensor.of(new long[] {}, new double[] {3});
        assertEquals(0, scalar.rank());
        assertEquals(3.0, scalar.get(), 0.0);
        assertEquals(0, DenseTensor.of(new long[] {4, 0}, new double[0]).size());
        assertEquals(DenseTensor.of(new long[] {2}, new double[] {1, 2}),
                DenseTensor.of(new long[] {2}, new double[] {1, 2}));
        assertNotEquals(DenseTensor.of(new long[] {2}, new double[] {1, 2}),
                DenseTensor.of(new long[] {2, 1}, new double[] {1, 2}));
        assertThrows(IllegalArgumentException.class,
                () -> DenseTensor.of(new long[] {2, 2}, new double[3]));
        assertThrows(IllegalArgumentException.class,
                () -> DenseTensor.of(new long[] {-1}, new double[0]));
    }

    @Test
    void zeroBias() {
        DenseTensor b = ZeroBias.zeros(5);
        assertArrayEquals(new long[] {5}, b.shape());
        assertArrayEquals(new double[5], b.values(), 0.0);
        assertArrayEquals(new float[6], ZeroBias.zeros(2, 3).toFloatArray(), 0f);
    }
}
