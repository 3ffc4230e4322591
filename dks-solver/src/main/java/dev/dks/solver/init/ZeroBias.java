package dev.dks.solver.init;

/**
 * Bias initialization for DKS/TAT networks: <b>biases are zeros</b>.
 *
 * <p>The kernel analysis of DKS/TAT assumes zero biases at initialization (the reference
 * implementation requires a zeros initializer for them); only the weights are random
 * ({@link ScaledUniformOrthogonal}).
 */
public final class ZeroBias {

    private ZeroBias() {
    }

    /**
     * All-zero tensor of the given shape (usually {@code [out]}).
     *
     * @param shape dimensions, each {@code >= 0}
     * @return zeros, row-major
     */
    public static DenseTensor zeros(long... shape) {
        long[] s = shape.clone();
        return DenseTensor.wrap(s, new double[(int) DenseTensor.elementCount(s)]);
    }
}
