package dev.dks.solver.init;

import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Standard normal draws from a {@link SplittableRandom}, by the Marsaglia polar method.
 *
 * <p>Implemented here (instead of relying on {@code RandomGenerator.nextGaussian()}) so the
 * sequence produced for a given seed depends only on {@link SplittableRandom#nextDouble()},
 * whose algorithm (SplitMix64) is specified by the JDK. Each accepted pair of uniforms yields
 * two normals; the second is kept for the next call. Not thread-safe.
 */
final class GaussianSampler {

    private final SplittableRandom rng;
    private boolean hasSpare;
    private double spare;

    GaussianSampler(SplittableRandom rng) {
        this.rng = Objects.requireNonNull(rng, "rng");
    }

    /** Returns the next N(0, 1) draw. */
    double next() {
        if (hasSpare) {
            hasSpare = false;
            return spare;
        }
        double u;
        double v;
        double s;
        do {
            u = 2.0 * rng.nextDouble() - 1.0;
            v = 2.0 * rng.nextDouble() - 1.0;
            s = u * u + v * v;
        } while (s >= 1.0 || s == 0.0);
        double f = Math.sqrt(-2.0 * Math.log(s) / s);
        spare = v * f;
        hasSpare = true;
        return u * f;
    }
}
