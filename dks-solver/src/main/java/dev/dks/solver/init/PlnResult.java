package dev.dks.solver.init;

import java.util.List;
import java.util.Objects;

/**
 * Output of {@link PerLocationNormalization#apply(double[], long[])}: the normalized tensor
 * (row-major, possibly with a new shape: a feature axis of size 1 appended for scalar inputs,
 * and the last axis one longer when a homogeneous coordinate is appended) and the warnings the
 * reference implementation would have logged.
 */
public final class PlnResult {

    private final DenseTensor tensor;
    private final List<String> warnings;

    PlnResult(DenseTensor tensor, List<String> warnings) {
        this.tensor = Objects.requireNonNull(tensor, "tensor");
        this.warnings = List.copyOf(warnings);
    }

    /** @return the normalized tensor */
    public DenseTensor tensor() {
        return tensor;
    }

    /** @return a copy of the normalized values, row-major in {@link #shape()} */
    public double[] values() {
        return tensor.values();
    }

    /** @return a copy of the output shape */
    public long[] shape() {
        return tensor.shape();
    }

    /** @return unmodifiable list of human-readable warnings, empty if none */
    public List<String> warnings() {
        return warnings;
    }

    @Override
    public String toString() {
        return "PlnResult[" + tensor + ", warnings=" + warnings + "]";
    }
}
