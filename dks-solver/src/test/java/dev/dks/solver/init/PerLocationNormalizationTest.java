package dev.dks.solver.init;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PerLocationNormalizationTest {

    private static final PerLocationNormalization ONE = PerLocationNormalization.defaults();
    private static final PerLocationNormalization OFF = ONE.withMode(HomogeneousMode.OFF);
    private static final PerLocationNormalization AVG_Q = ONE.withMode(HomogeneousMode.AVG_Q);

    private static double[] filled(int n, double v) {
        double[] a = new double[n];
        Arrays.fill(a, v);
        return a;
    }

    @Test
    void defaults() {
        assertEquals(HomogeneousMode.ONE, ONE.mode());
        assertEquals(1.0, ONE.homogScale(), 0.0);
        assertTrue(ONE.hasBatchDim());
    }

    @Test
    void scalarWithoutBatchOneMode() {
        // PLN(0.3, "one", no batch) = sqrt(2 / (1 + 0.09)) * [0.3, 1]
        PlnResult r = ONE.withBatchDim(false).apply(new double[] {0.3}, new long[] {});
        assertArrayEquals(new long[] {2}, r.shape());
        double f = Math.sqrt(2.0 / 1.09);
        assertArrayEquals(new double[] {0.3 * f, f}, r.values(), 1e-15);
        assertTrue(r.warnings().isEmpty());
    }

    @Test
    void batchOfScalarsGetsFeatureAxis() {
        PlnResult r = ONE.apply(new double[] {0.3, -2.0, 0.0}, new long[] {3});
        assertArrayEquals(new long[] {3, 2}, r.shape());
        double[] expected = {
            0.3 * Math.sqrt(2 / 1.09), Math.sqrt(2 / 1.09),
            -2.0 * Math.sqrt(2 / 5.0), Math.sqrt(2 / 5.0),
            0.0, Math.sqrt(2.0)};
        assertArrayEquals(expected, r.values(), 1e-15);
    }

    @Test
    void offModeOnConstantInputGivesOnes() {
        // PLN(0.7 * ones(10, 6, 3), "off") = ones(10, 6, 3)
        PlnResult r = OFF.apply(filled(180, 0.7), new long[] {10, 6, 3});
        assertArrayEquals(new long[] {10, 6, 3}, r.shape());
        assertArrayEquals(filled(180, 1.0), r.values(), 1e-15);
        assertEquals(1, r.warnings().size());
        assertTrue(r.warnings().get(0).contains("OFF"), r.warnings().get(0));
    }

    @Test
    void offModeWarnsOnlyBelowTwentyFeatures() {
        assertEquals(1, OFF.apply(filled(2 * 19, 1.0), new long[] {2, 19}).warnings().size());
        assertTrue(OFF.apply(filled(2 * 20, 1.0), new long[] {2, 20}).warnings().isEmpty());
    }

    @Test
    void avgQOnConstantInputGivesOnesWithFourFeatures() {
        PlnResult r = AVG_Q.apply(filled(4 * 5 * 3, 2.5), new long[] {4, 5, 3});
        assertArrayEquals(new long[] {4, 5, 4}, r.shape());
        assertArrayEquals(filled(80, 1.0), r.values(), 1e-15);
        // 5 * 3 = 15 degrees of freedom per example < 20
        assertEquals(1, r.warnings().size());
        assertTrue(r.warnings().get(0).contains("15"), r.warnings().get(0));
        // 7 * 3 = 21 >= 20: no warning
        assertTrue(AVG_Q.apply(filled(42, 1.0), new long[] {2, 7, 3}).warnings().isEmpty());
    }

    @Test
    void avgQIsPerExample() {
        // example 0 constant 1, example 1 constant 3: each example's own average -> all ones
        double[] x = {1, 1, 1, 1, 3, 3, 3, 3};
        PlnResult r = AVG_Q.apply(x, new long[] {2, 2, 2});
        assertArrayEquals(new long[] {2, 2, 3}, r.shape());
        assertArrayEquals(filled(12, 1.0), r.values(), 1e-15);
    }

    @Test
    void avgQHandComputedWithoutBatch() {
        // no batch, shape (2 locations, 2 features): x = [[3, 4], [0, 0]]
        // homog = sqrt((9 + 16) / 4) = 2.5
        // location 0: [3, 4, 2.5] / sqrt(31.25 / 3); location 1: [0, 0, 2.5] / sqrt(6.25 / 3)
        PlnResult r = AVG_Q.withBatchDim(false).apply(new double[] {3, 4, 0, 0},
                new long[] {2, 2});
        assertArrayEquals(new long[] {2, 3}, r.shape());
        double f = Math.sqrt(3 / 31.25);
        assertArrayEquals(new double[] {3 * f, 4 * f, 2.5 * f, 0, 0, Math.sqrt(3)},
                r.values(), 1e-14);
    }

    @Test
    void homogScaleMultipliesCoordinate() {
        PerLocationNormalization p = ONE.withBatchDim(false).withHomogScale(3.0);
        // [0] -> [0, 3] -> mean square 4.5 -> [0, sqrt 2]
        assertArrayEquals(new double[] {0, Math.sqrt(2)},
                p.apply(new double[] {0}, new long[] {1}).values(), 1e-15);
        // [1, 1, 1] -> [1, 1, 1, 3] -> mean square 3 -> [1, 1, 1, 3] / sqrt 3
        double s = 1 / Math.sqrt(3);
        assertArrayEquals(new double[] {s, s, s, 3 * s},
                p.apply(new double[] {1, 1, 1}, new long[] {3}).values(), 1e-15);
        // AVG_Q scaled: constant 2 input, scale 2 -> [2, 2, 4] -> ms 8 -> [1, 1, 2] / sqrt 2
        PlnResult a = AVG_Q.withHomogScale(2.0).apply(filled(4, 2.0), new long[] {1, 2, 2});
        double t = 1 / Math.sqrt(2);
        assertArrayEquals(new double[] {t, t, 2 * t, t, t, 2 * t}, a.values(), 1e-15);
    }

    @Test
    void everyLocationHasMeanSquareOneOnRandomInput() {
        Random rnd = new Random(3);
        long[] shape = {3, 4, 5, 6};
        double[] x = new double[360];
        for (int i = 0; i < x.length; i++) {
            x[i] = 5 * rnd.nextGaussian() + 1;
        }
        double[] before = x.clone();
        for (HomogeneousMode m : HomogeneousMode.values()) {
            for (boolean batch : new boolean[] {true, false}) {
                PlnResult r = new PerLocationNormalization(m, 0.7, batch).apply(x, shape);
                int features = m == HomogeneousMode.OFF ? 6 : 7;
                assertArrayEquals(new long[] {3, 4, 5, features}, r.shape());
                double[] y = r.values();
                assertEquals(60 * features, y.length);
                for (int loc = 0; loc < 60; loc++) {
                    double ss = 0;
                    for (int f = 0; f < features; f++) {
                        ss += y[loc * features + f] * y[loc * features + f];
                    }
                    assertEquals(1.0, ss / features, 1e-13, m + " location " + loc);
                    // original features keep their direction (positive rescaling)
                    double ratio = y[loc * features] / x[loc * 6];
                    for (int f = 1; f < 6; f++) {
                        assertEquals(ratio, y[loc * features + f] / x[loc * 6 + f], 1e-12);
                    }
                }
            }
        }
        assertArrayEquals(before, x, 0.0); // input untouched
    }

    @Test
    void avgQWithoutLocationAxisThrowsTypedError() {
        MissingLocationAxisException e = assertThrows(MissingLocationAxisException.class,
                () -> AVG_Q.apply(new double[12], new long[] {4, 3}));
        assertTrue(e.getMessage().contains("[4, 3]"), e.getMessage());
        assertThrows(MissingLocationAxisException.class,
                () -> AVG_Q.withBatchDim(false).apply(new double[3], new long[] {3}));
        assertThrows(MissingLocationAxisException.class,
                () -> AVG_Q.apply(new double[5], new long[] {5}));
        assertThrows(MissingLocationAxisException.class,
                () -> AVG_Q.withBatchDim(false).apply(new double[1], new long[] {}));
    }

    @Test
    void zeroLocationInOffModeIsNaN() {
        double[] y = OFF.apply(new double[] {0, 0, 1, 1}, new long[] {2, 2}).values();
        assertTrue(Double.isNaN(y[0]) && Double.isNaN(y[1]));
        assertArrayEquals(new double[] {1, 1}, Arrays.copyOfRange(y, 2, 4), 1e-15);
    }

    @Test
    void rejectsBadInput() {
        assertThrows(IllegalArgumentException.class,
                () -> ONE.apply(new double[5], new long[] {2, 3}));
        assertThrows(IllegalArgumentException.class,
                () -> ONE.apply(new double[] {1}, new long[] {}));
        assertThrows(IllegalArgumentException.class,
                () -> new PerLocationNormalization(HomogeneousMode.ONE, Double.NaN, true));
    }

    @Test
    void acceptsDenseTensorAndParsesModeNames() {
        DenseTensor t = DenseTensor.of(new long[] {1, 1}, new double[] {0.3});
        double f = Math.sqrt(2.0 / 1.09);
        assertArrayEquals(new double[] {0.3 * f, f}, ONE.apply(t).values(), 1e-15);
        assertEquals(HomogeneousMode.AVG_Q, HomogeneousMode.fromName("avg_q"));
        assertEquals(HomogeneousMode.ONE, HomogeneousMode.fromName(" One "));
        assertEquals(HomogeneousMode.OFF, HomogeneousMode.fromName("OFF"));
        assertEquals("avg_q", HomogeneousMode.AVG_Q.referenceName());
        assertThrows(IllegalArgumentException.class, () -> HomogeneousMode.fromName("two"));
    }
}
