package dev.dks.solver.init;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Per-Location Normalization (PLN), the DKS/TAT input preprocessing: a specification object
 * plus a pure-Java reference implementation ({@link #apply(double[], long[])}) meant to serve
 * as the oracle for framework (TensorFlow) versions.
 *
 * <p><b>Layout and terms.</b> The input is a row-major (C order) array with the given shape.
 * The <b>last axis is the feature axis</b>; normalization happens over it only. If
 * {@code hasBatchDim} is true the first axis is the batch axis (one example per index);
 * every other axis (all axes strictly between the batch axis, if any, and the last axis) is a
 * <b>location axis</b>, e.g. {@code [batch, height, width, channels]} (NHWC) has
 * {@code height * width} locations per example with {@code channels} features each. A
 * <b>location</b> is one vector along the last axis, i.e. one fixed index on every other axis
 * (batch included).
 *
 * <p><b>Steps</b> ({@code x} = input):
 * <ol>
 *   <li>Scalar inputs: if {@code hasBatchDim} and rank is 1 (a batch of scalars), or
 *       {@code !hasBatchDim} and rank is 0 (one scalar), a feature axis of size 1 is appended.
 *       </li>
 *   <li>Homogeneous coordinate, appended to the last axis (so it grows by one), multiplied by
 *       {@link #homogScale()}:
 *       <ul>
 *         <li>{@link HomogeneousMode#ONE}: the constant 1;</li>
 *         <li>{@link HomogeneousMode#AVG_Q}: {@code sqrt(mean of x^2 over all non-batch axes)}
 *             of the example, the same value at every location of the example. Requires at
 *             least one location axis, else {@link MissingLocationAxisException};</li>
 *         <li>{@link HomogeneousMode#OFF}: nothing appended.</li>
 *       </ul></li>
 *   <li>Every location is divided by {@code sqrt(mean of its squares over the last axis)}
 *       (computed after step 2), so every location has mean square exactly 1, i.e. squared
 *       Euclidean norm equal to its (new) feature count.</li>
 * </ol>
 * A location whose mean square is 0 (possible only in {@code OFF} mode, or with
 * {@code homogScale = 0}) becomes {@code NaN}, matching {@code x * rsqrt(0)} in the
 * reference.
 *
 * <p><b>Warnings</b> (returned in {@link PlnResult#warnings()}, never thrown):
 * {@code AVG_Q} when an example has fewer than {@value #MIN_RECOMMENDED_SIZE} degrees of
 * freedom (elements over its non-batch axes, counted after step 1); {@code OFF} when the
 * feature dimension is below {@value #MIN_RECOMMENDED_SIZE}.
 *
 * <p><b>Defaults</b>: mode {@code ONE}, {@code homogScale = 1.0}, {@code hasBatchDim = true}.
 * Instances are immutable and thread-safe.
 */
public final class PerLocationNormalization {

    /** Default homogeneous mode. */
    public static final HomogeneousMode DEFAULT_MODE = HomogeneousMode.ONE;
    /** Default multiplier of the homogeneous coordinate. */
    public static final double DEFAULT_HOMOG_SCALE = 1.0;
    /** Default: the first axis is a batch axis. */
    public static final boolean DEFAULT_HAS_BATCH_DIM = true;
    /** Size below which the {@code AVG_Q} / {@code OFF} warnings are emitted. */
    public static final int MIN_RECOMMENDED_SIZE = 20;

    private final HomogeneousMode mode;
    private final double homogScale;
    private final boolean hasBatchDim;

    /**
     * @param mode        homogeneous coordinate mode
     * @param homogScale  multiplier of the homogeneous coordinate, finite (ignored for OFF)
     * @param hasBatchDim whether the first axis is a batch axis
     */
    public PerLocationNormalization(HomogeneousMode mode, double homogScale,
                                    boolean hasBatchDim) {
        this.mode = Objects.requireNonNull(mode, "mode");
        if (!Double.isFinite(homogScale)) {
            throw new IllegalArgumentException("homogScale must be finite, got " + homogScale);
        }
        this.homogScale = homogScale;
        this.hasBatchDim = hasBatchDim;
    }

    /** @return the default specification ({@code ONE}, scale 1, with batch axis) */
    public static PerLocationNormalization defaults() {
        return new PerLocationNormalization(DEFAULT_MODE, DEFAULT_HOMOG_SCALE,
                DEFAULT_HAS_BATCH_DIM);
    }

    /** @return a copy with the given mode */
    public PerLocationNormalization withMode(HomogeneousMode newMode) {
        return new PerLocationNormalization(newMode, homogScale, hasBatchDim);
    }

    /** @return a copy with the given homogeneous-coordinate multiplier */
    public PerLocationNormalization withHomogScale(double newScale) {
        return new PerLocationNormalization(mode, newScale, hasBatchDim);
    }

    /** @return a copy with the given batch-axis flag */
    public PerLocationNormalization withBatchDim(boolean newHasBatchDim) {
        return new PerLocationNormalization(mode, homogScale, newHasBatchDim);
    }

    /** @return the homogeneous coordinate mode */
    public HomogeneousMode mode() {
        return mode;
    }

    /** @return the multiplier of the homogeneous coordinate */
    public double homogScale() {
        return homogScale;
    }

    /** @return whether the first axis is a batch axis */
    public boolean hasBatchDim() {
        return hasBatchDim;
    }

    /**
     * Applies PLN to a tensor.
     *
     * @param x input tensor
     * @return normalized tensor and warnings
     * @see #apply(double[], long[])
     */
    public PlnResult apply(DenseTensor x) {
        return apply(x.values(), x.shape());
    }

    /**
     * Applies PLN (reference implementation; see the class documentation for conventions).
     *
     * @param x     input values, row-major in {@code shape}; not modified
     * @param shape input shape (rank {@code >= 1} with a batch axis, {@code >= 0} without)
     * @return the normalized values with their new shape, and warnings
     * @throws MissingLocationAxisException in {@code AVG_Q} mode without a location axis
     * @throws IllegalArgumentException     if the shape does not match {@code x.length}, has a
     *                                      negative dimension, or is rank 0 with a batch axis
     */
    public PlnResult apply(double[] x, long[] shape) {
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(shape, "shape");
        long n = DenseTensor.elementCount(shape);
        if (n != x.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + n
                    + " elements but x has " + x.length);
        }
        if (hasBatchDim && shape.length == 0) {
            throw new IllegalArgumentException("a rank-0 input has no batch axis; use"
                    + " hasBatchDim=false for a single scalar");
        }

        // Step 1: scalars get a feature axis of size 1.
        int batchAxes = hasBatchDim ? 1 : 0;
        long[] s = shape;
        if (shape.length == batchAxes) {
            s = Arrays.copyOf(shape, shape.length + 1);
            s[shape.length] = 1;
        }
        int rank = s.length;
        boolean hasLocationAxis = rank >= batchAxes + 2;
        int features = (int) s[rank - 1];
        long examples = hasBatchDim ? s[0] : 1;
        long locationsPerExample = 1;
        for (int a = batchAxes; a < rank - 1; a++) {
            locationsPerExample *= s[a];
        }
        long dofPerExample = locationsPerExample * features;

        List<String> warnings = new ArrayList<>();
        if (mode == HomogeneousMode.AVG_Q) {
            if (!hasLocationAxis) {
                throw new MissingLocationAxisException("homogeneous mode AVG_Q needs at least"
                        + " one location axis, but input shape " + Arrays.toString(shape)
                        + (hasBatchDim ? " (batch axis first, features last)"
                        : " (no batch axis, features last)")
                        + " has none. Use HomogeneousMode.ONE, or reshape so that locations"
                        + " have their own axis.");
            }
            if (dofPerExample < MIN_RECOMMENDED_SIZE) {
                warnings.add("homogeneous mode AVG_Q: each example has only " + dofPerExample
                        + " degrees of freedom (elements over the non-batch axes of shape "
                        + Arrays.toString(s) + "), fewer than " + MIN_RECOMMENDED_SIZE
                        + "; the appended average-q coordinate then carries little extra"
                        + " information. Consider HomogeneousMode.ONE.");
            }
        } else if (mode == HomogeneousMode.OFF && features < MIN_RECOMMENDED_SIZE) {
            warnings.add("homogeneous mode OFF with feature dimension " + features
                    + " (fewer than " + MIN_RECOMMENDED_SIZE + "): normalizing each location"
                    + " to mean square 1 discards its scale, which loses much of the"
                    + " information when there are few features. Consider"
                    + " HomogeneousMode.ONE or AVG_Q.");
        }

        // Step 2 + 3.
        boolean appendHomog = mode != HomogeneousMode.OFF;
        int outFeatures = appendHomog ? features + 1 : features;
        long[] outShape = s.clone();
        outShape[rank - 1] = outFeatures;
        long totalLocations = examples * locationsPerExample;
        double[] y = new double[(int) DenseTensor.elementCount(outShape)];

        for (long e = 0; e < examples; e++) {
            double homog = 0.0;
            if (mode == HomogeneousMode.ONE) {
                homog = homogScale;
            } else if (mode == HomogeneousMode.AVG_Q) {
                int start = (int) (e * dofPerExample);
                double sumSq = 0.0;
                for (int i = start; i < start + dofPerExample; i++) {
                    sumSq += x[i] * x[i];
                }
                homog = Math.sqrt(sumSq / dofPerExample) * homogScale;
            }
            for (long l = 0; l < locationsPerExample; l++) {
                long loc = e * locationsPerExample + l;
                int in = (int) (loc * features);
                int out = (int) (loc * outFeatures);
                double sumSq = 0.0;
                for (int f = 0; f < features; f++) {
                    double v = x[in + f];
                    y[out + f] = v;
                    sumSq += v * v;
                }
                if (appendHomog) {
                    y[out + features] = homog;
                    sumSq += homog * homog;
                }
                double rms = Math.sqrt(sumSq / outFeatures);
                for (int f = 0; f < outFeatures; f++) {
                    y[out + f] /= rms;
                }
            }
        }
        assert totalLocations * outFeatures == y.length;
        return new PlnResult(DenseTensor.wrap(outShape, y), warnings);
    }

    @Override
    public String toString() {
        return "PerLocationNormalization[mode=" + mode + ", homogScale=" + homogScale
                + ", hasBatchDim=" + hasBatchDim + "]";
    }
}
