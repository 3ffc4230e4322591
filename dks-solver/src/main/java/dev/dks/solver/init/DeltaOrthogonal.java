package dev.dks.solver.init;

import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Delta-orthogonal initialization of convolution kernels.
 *
 * <p><b>Layout</b>: {@code [k1, ..., kd, in, out]} (TF/JAX HWIO generalized to any number
 * {@code d >= 1} of spatial axes), values row-major. Every spatial size {@code ki} must be odd.
 *
 * <p><b>Values</b>: every entry is zero except the centre tap
 * {@code [(k1-1)/2, ..., (kd-1)/2, :, :]}, which is the {@code in x out} matrix
 * {@code gain * max(sqrt(out/in), 1) * Q} with {@code Q} Haar orthogonal — the same matrix
 * {@link ScaledUniformOrthogonal} would produce for a dense {@code [in, out]} kernel. At
 * initialization the convolution therefore acts as the same orthogonal dense layer applied
 * independently at every location, which is what lets the per-location kernel analysis of
 * DKS/TAT apply to convolutional networks.
 *
 * <p>Usually reached through {@link ScaledUniformOrthogonal#sample(long[], long)} with
 * {@code delta = true}.
 */
public final class DeltaOrthogonal {

    private DeltaOrthogonal() {
    }

    /**
     * Samples a Delta-orthogonal kernel from a fresh {@code new SplittableRandom(seed)}.
     *
     * @param shape kernel shape {@code [k1, ..., kd, in, out]}, rank {@code >= 3}, odd
     *              {@code ki}, all dimensions {@code >= 1}
     * @param gain  extra multiplicative factor (1 for DKS/TAT)
     * @param seed  random seed
     * @return the kernel, same shape, row-major
     * @throws InvalidKernelShapeException if the shape is not a valid odd-sized conv kernel
     */
    public static DenseTensor sample(long[] shape, double gain, long seed) {
        return sample(shape, gain, new SplittableRandom(seed));
    }

    /**
     * Samples a Delta-orthogonal kernel, consuming draws from {@code rng}.
     *
     * @param shape kernel shape {@code [k1, ..., kd, in, out]}, rank {@code >= 3}, odd
     *              {@code ki}, all dimensions {@code >= 1}
     * @param gain  extra multiplicative factor (1 for DKS/TAT), finite
     * @param rng   random source; advanced by this call
     * @return the kernel, same shape, row-major
     * @throws InvalidKernelShapeException if the shape is not a valid odd-sized conv kernel
     */
    public static DenseTensor sample(long[] shape, double gain, SplittableRandom rng) {
        Objects.requireNonNull(rng, "rng");
        if (!Double.isFinite(gain)) {
            throw new IllegalArgumentException("gain must be finite, got " + gain);
        }
        KernelShapes.validate(shape);
        long[] s = shape.clone();
        if (s.length < 3) {
            throw new InvalidKernelShapeException("Delta-orthogonal initialization needs a"
                    + " convolution kernel [k1, ..., kd, in, out] of rank >= 3, got shape "
                    + KernelShapes.format(s) + "; initialize rank-2 [in, out] kernels as dense"
                    + " (ScaledUniformOrthogonal).");
        }
        KernelShapes.requireOddSpatial(s);
        int in = (int) s[s.length - 2];
        int out = (int) s[s.length - 1];
        double[] centre = ScaledUniformOrthogonal.denseMatrix(in, out, gain, rng);

        // Flat offset of [c1, ..., cd, 0, 0]: row-major index over the spatial axes times the
        // contiguous in*out block size.
        long spatialIndex = 0;
        for (int a = 0; a < s.length - 2; a++) {
            spatialIndex = spatialIndex * s[a] + (s[a] - 1) / 2;
        }
        int block = in * out;
        double[] values = new double[(int) DenseTensor.elementCount(s)];
        System.arraycopy(centre, 0, values, (int) (spatialIndex * block), block);
        return DenseTensor.wrap(s, values);
    }
}
