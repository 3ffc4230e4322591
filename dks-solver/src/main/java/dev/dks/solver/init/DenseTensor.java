package dev.dks.solver.init;

import java.util.Arrays;
import java.util.Objects;

/**
 * Immutable dense tensor of doubles: a shape plus its values in <b>row-major (C) order</b>.
 *
 * <p>Row-major means the last axis varies fastest: for shape {@code [d0, d1, ..., dk]} the
 * element at index {@code (i0, i1, ..., ik)} sits at flat position
 * {@code ((i0 * d1 + i1) * d2 + i2) ... * dk + ik}. This is the layout of NumPy's default
 * arrays and of TensorFlow (Java) host buffers, so {@link #toFloatArray()} can be copied into a
 * {@code TFloat32} of the same shape without reordering. For a weight kernel produced by
 * {@link ScaledUniformOrthogonal} the shape is in TF layout ({@code [in, out]} for dense,
 * {@code [k1, ..., in, out]} (HWIO) for convolutions).
 *
 * <p>A rank-0 tensor (empty shape) holds one value. Dimensions may be zero (empty tensor); the
 * element count must not exceed {@link #MAX_ELEMENTS}. The accessors return defensive copies.
 */
public final class DenseTensor {

    /** Largest element count supported (a safe Java array length). */
    public static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private final long[] shape;
    private final double[] values;

    private DenseTensor(long[] shape, double[] values) {
        this.shape = shape;
        this.values = values;
    }

    /**
     * Creates a tensor from copies of {@code shape} and {@code values}.
     *
     * @param shape  dimensions, each {@code >= 0}; empty for a scalar
     * @param values row-major values; length must equal the product of {@code shape}
     * @return the tensor
     * @throws IllegalArgumentException if a dimension is negative or the length does not match
     */
    public static DenseTensor of(long[] shape, double[] values) {
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(values, "values");
        return wrap(shape.clone(), values.clone());
    }

    /** Creates a tensor without copying; callers must not keep or mutate the arrays. */
    static DenseTensor wrap(long[] shape, double[] values) {
        long n = elementCount(shape);
        if (n != values.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + n
                    + " elements but " + values.length + " values were given");
        }
        return new DenseTensor(shape, values);
    }

    /**
     * Product of the dimensions of {@code shape} (1 for a scalar).
     *
     * @param shape dimensions, each {@code >= 0}
     * @return the element count
     * @throws IllegalArgumentException if a dimension is negative or the count exceeds
     *                                  {@link #MAX_ELEMENTS}
     */
    public static long elementCount(long[] shape) {
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException(
                        "negative dimension in shape " + Arrays.toString(shape));
            }
            if (d == 0) {
                return 0;
            }
        }
        long n = 1;
        for (long d : shape) {
            if (n > MAX_ELEMENTS / d) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape)
                        + " has more than " + MAX_ELEMENTS + " elements");
            }
            n *= d;
        }
        return n;
    }

    /** @return a copy of the shape */
    public long[] shape() {
        return shape.clone();
    }

    /** @return the number of axes (0 for a scalar) */
    public int rank() {
        return shape.length;
    }

    /**
     * @param axis axis index; negative values count from the end ({@code -1} = last axis)
     * @return the size of that axis
     */
    public long dim(int axis) {
        int a = axis < 0 ? shape.length + axis : axis;
        if (a < 0 || a >= shape.length) {
            throw new IndexOutOfBoundsException(
                    "axis " + axis + " out of range for rank " + shape.length);
        }
        return shape[a];
    }

    /** @return the number of elements */
    public int size() {
        return values.length;
    }

    /** @return a copy of the values, row-major */
    public double[] values() {
        return values.clone();
    }

    /** @return the values narrowed to {@code float}, row-major (for a TF {@code TFloat32}) */
    public float[] toFloatArray() {
        float[] f = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            f[i] = (float) values[i];
        }
        return f;
    }

    /**
     * @param flatIndex row-major position in {@code [0, size())}
     * @return the value there
     */
    public double getFlat(int flatIndex) {
        return values[flatIndex];
    }

    /**
     * @param index one index per axis
     * @return the value at that multi-index
     */
    public double get(long... index) {
        return values[flatIndex(index)];
    }

    /**
     * Row-major flat position of a multi-index.
     *
     * @param index one index per axis, each within its dimension
     * @return the flat position
     */
    public int flatIndex(long... index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException("expected " + shape.length + " indices, got "
                    + index.length);
        }
        long flat = 0;
        for (int a = 0; a < shape.length; a++) {
            if (index[a] < 0 || index[a] >= shape[a]) {
                throw new IndexOutOfBoundsException("index " + Arrays.toString(index)
                        + " out of range for shape " + Arrays.toString(shape));
            }
            flat = flat * shape[a] + index[a];
        }
        return (int) flat;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof DenseTensor)) {
            return false;
        }
        DenseTensor t = (DenseTensor) o;
        return Arrays.equals(shape, t.shape) && Arrays.equals(values, t.values);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(shape) + Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return "DenseTensor" + Arrays.toString(shape);
    }
}
