package dev.dks.solver.init;

import java.util.Objects;
import java.util.SplittableRandom;

/**
 * The DKS/TAT weight initializer "scaled uniform orthogonal" (SUO), with optional Delta
 * initialization for convolution kernels.
 *
 * <p><b>Layout</b> (TF / TF Java, output axis last): dense kernels are {@code [in, out]};
 * convolution kernels are {@code [k1, ..., kd, in, out]} (HWIO for 2-D). Results are
 * {@link DenseTensor}s of exactly that shape, values row-major.
 *
 * <p><b>Dense</b> (rank 2, or any rank with {@code delta = false}): {@code in} is the product
 * of all dimensions but the last, and the kernel, viewed as an {@code in x out} matrix, is
 * {@code gain * max(sqrt(out / in), 1) * Q} with {@code Q} Haar orthogonal
 * ({@link HaarOrthogonal}). If {@code out >= in} the rows of {@code Q} are orthonormal, so
 * {@code ||W^T x|| = gain * sqrt(out/in) * ||x||} exactly and the per-unit mean square
 * ("q value") is preserved; if {@code out < in} the factor is 1, the columns are orthonormal and
 * q is preserved in expectation over the random matrix.
 *
 * <p><b>Delta</b> (rank {@code >= 3} with {@code delta = true}, the default): see
 * {@link DeltaOrthogonal}; all entries are zero except the spatial centre tap, which is an SUO
 * {@code in x out} matrix with {@code in = shape[rank-2]}. Every spatial size must be odd.
 *
 * <p><b>Defaults</b>: {@code gain = 1.0} (DKS/TAT assume 1; leave it), {@code delta = true}.
 * Biases are not produced here: they are zero ({@link ZeroBias}).
 *
 * <p>Instances are immutable and thread-safe; sampling is deterministic in the seed.
 */
public final class ScaledUniformOrthogonal {

    /** Default extra multiplicative gain. */
    public static final double DEFAULT_GAIN = 1.0;
    /** Default for Delta initialization of convolution kernels. */
    public static final boolean DEFAULT_DELTA = true;

    private final double gain;
    private final boolean delta;

    /** Creates the default initializer: {@code gain = 1}, {@code delta = true}. */
    public ScaledUniformOrthogonal() {
        this(DEFAULT_GAIN, DEFAULT_DELTA);
    }

    /**
     * @param gain  extra multiplicative factor, finite (1 for DKS/TAT)
     * @param delta whether convolution kernels (rank {@code >= 3}) get Delta initialization;
     *              if {@code false} they are treated as dense {@code (k1*...*kd*in) x out}
     */
    public ScaledUniformOrthogonal(double gain, boolean delta) {
        if (!Double.isFinite(gain)) {
            throw new IllegalArgumentException("gain must be finite, got " + gain);
        }
        this.gain = gain;
        this.delta = delta;
    }

    /** @return the extra multiplicative gain */
    public double gain() {
        return gain;
    }

    /** @return whether convolution kernels get Delta initialization */
    public boolean delta() {
        return delta;
    }

    /**
     * The SUO scale {@code max(sqrt(out / in), 1)} (without the gain).
     *
     * @param in  fan-in, {@code >= 1}
     * @param out fan-out, {@code >= 1}
     * @return the scale factor, {@code >= 1}
     */
    public static double scaleFactor(long in, long out) {
        if (in < 1 || out < 1) {
            throw new IllegalArgumentException("in and out must be >= 1, got " + in + ", " + out);
        }
        return Math.max(Math.sqrt((double) out / (double) in), 1.0);
    }

    /**
     * Samples a kernel from a fresh {@code new SplittableRandom(seed)}.
     *
     * @param shape kernel shape, TF layout, rank {@code >= 2}, all dimensions {@code >= 1}
     * @param seed  random seed; equal seeds and shapes give identical kernels
     * @return the kernel, same shape, row-major
     * @throws InvalidKernelShapeException for rank {@code < 2}, a dimension {@code < 1}, or an
     *                                     even spatial size when Delta applies
     */
    public DenseTensor sample(long[] shape, long seed) {
        return sample(shape, new SplittableRandom(seed));
    }

    /**
     * Samples a kernel, consuming draws from {@code rng}.
     *
     * @param shape kernel shape, TF layout, rank {@code >= 2}, all dimensions {@code >= 1}
     * @param rng   random source; advanced by this call
     * @return the kernel, same shape, row-major
     * @throws InvalidKernelShapeException for rank {@code < 2}, a dimension {@code < 1}, or an
     *                                     even spatial size when Delta applies
     */
    public DenseTensor sample(long[] shape, SplittableRandom rng) {
        Objects.requireNonNull(rng, "rng");
        KernelShapes.validate(shape);
        if (delta && shape.length >= 3) {
            return DeltaOrthogonal.sample(shape, gain, rng);
        }
        long[] s = shape.clone();
        int in = KernelShapes.denseInDim(s);
        int out = KernelShapes.outDim(s);
        return DenseTensor.wrap(s, denseMatrix(in, out, gain, rng));
    }

    /**
     * Row-major {@code in x out} matrix {@code gain * max(sqrt(out/in), 1) * Q}, Q Haar.
     */
    static double[] denseMatrix(int in, int out, double gain, SplittableRandom rng) {
        double[] w = HaarOrthogonal.sample(in, out, rng);
        double f = gain * scaleFactor(in, out);
        if (f != 1.0) {
            for (int i = 0; i < w.length; i++) {
                w[i] *= f;
            }
        }
        return w;
    }

    @Override
    public String toString() {
        return "ScaledUniformOrthogonal[gain=" + gain + ", delta=" + delta + "]";
    }
}
