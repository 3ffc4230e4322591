package dev.dks.solver.init;

/**
 * Thrown when a weight-kernel shape cannot be initialized by {@link ScaledUniformOrthogonal}
 * or {@link DeltaOrthogonal}.
 *
 * <p>Causes: rank below 2, a zero or negative dimension, an element count that does not fit a
 * Java array, or (Delta initialization only) an even spatial size. The message always names
 * the offending shape and says how to fix the call.
 */
public class InvalidKernelShapeException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message human-readable description naming the shape and the remedy
     */
    public InvalidKernelShapeException(String message) {
        super(message);
    }
}
