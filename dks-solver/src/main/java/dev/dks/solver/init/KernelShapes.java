package dev.dks.solver.init;

import java.util.Arrays;

/**
 * Validation and bookkeeping for weight-kernel shapes in TF layout: output axis last,
 * {@code [in, out]} for dense layers and {@code [k1, ..., kd, in, out]} (HWIO) for
 * convolutions.
 */
final class KernelShapes {

    private KernelShapes() {
    }

    /** Formats a shape like {@code [3, 3, 16, 32]}. */
    static String format(long[] shape) {
        return Arrays.toString(shape);
    }

    /**
     * Checks rank {@code >= 2}, every dimension {@code >= 1} and an array-sized element count.
     *
     * @throws InvalidKernelShapeException otherwise
     */
    static void validate(long[] shape) {
        if (shape == null) {
            throw new InvalidKernelShapeException("kernel shape must not be null");
        }
        if (shape.length < 2) {
            throw new InvalidKernelShapeException("kernel shape " + format(shape) + " has rank "
                    + shape.length + "; weight kernels need rank >= 2 ([in, out] for dense"
                    + " layers, [k1, ..., kd, in, out] for convolutions). Biases are not"
                    + " sampled: use ZeroBias.zeros(...) for them.");
        }
        for (int a = 0; a < shape.length; a++) {
            if (shape[a] < 1) {
                throw new InvalidKernelShapeException("kernel shape " + format(shape)
                        + " has dimension " + shape[a] + " at axis " + a
                        + "; every dimension of a weight kernel must be >= 1.");
            }
        }
        long n = 1;
        for (long d : shape) {
            if (n > DenseTensor.MAX_ELEMENTS / d) {
                throw new InvalidKernelShapeException("kernel shape " + format(shape)
                        + " has more than " + DenseTensor.MAX_ELEMENTS
                        + " elements and cannot be held in a Java array.");
            }
            n *= d;
        }
    }

    /** Output size: the last dimension. Assumes {@link #validate} passed. */
    static int outDim(long[] shape) {
        return (int) shape[shape.length - 1];
    }

    /** Fan-in for dense treatment: product of all dimensions but the last. */
    static int denseInDim(long[] shape) {
        long n = 1;
        for (int a = 0; a < shape.length - 1; a++) {
            n *= shape[a];
        }
        return (int) n;
    }

    /**
     * Checks that every spatial dimension ({@code k1..kd}, all but the last two) is odd.
     *
     * @throws InvalidKernelShapeException naming the shape and the remedy otherwise
     */
    static void requireOddSpatial(long[] shape) {
        StringBuilder even = new StringBuilder();
        for (int a = 0; a < shape.length - 2; a++) {
            if (shape[a] % 2 == 0) {
                if (even.length() > 0) {
                    even.append(", ");
                }
                even.append("axis ").append(a).append(" (size ").append(shape[a]).append(')');
            }
        }
        if (even.length() > 0) {
            throw new InvalidKernelShapeException("Delta-orthogonal initialization needs odd"
                    + " spatial kernel sizes (it puts the orthogonal matrix at the centre tap),"
                    + " but kernel shape " + format(shape)
                    + " (layout [k1, ..., kd, in, out]) has even spatial size at " + even
                    + ". Use odd kernel sizes, or use delta=false to treat the kernel as a"
                    + " dense (k1*...*kd*in) x out = " + denseInDim(shape) + " x "
                    + outDim(shape) + " matrix.");
        }
    }
}
