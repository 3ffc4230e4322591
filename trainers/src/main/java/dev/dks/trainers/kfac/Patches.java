package dev.dks.trainers.kfac;

import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.StridedSlice;
import org.tensorflow.types.TFloat32;

/**
 * The rows of a K-FAC input factor as TF ops: for a dense layer the inputs themselves, for an NHWC
 * Conv2D the patch under the kernel at every output location, from {@code ExtractImagePatches}
 * (patch depth in (row, column, channel) order, which is the row-major flattening of an HWIO
 * kernel to {@code [kh kw c_in, c_out]}; padded entries are zero). With a bias a column of ones is
 * appended (also at padded locations).
 */
public final class Patches {
  private Patches() {}

  /**
   * The {@code [rows, d_in (+1)]} matrix whose second moment is A.
   *
   * @param a the layer input ({@code [B, d_in]} or {@code [B, H, W, c_in]}), already limited to
   *     the examples used for statistics
   */
  public static Operand<TFloat32> rows(Ops tf, RegisteredLayer layer, Operand<TFloat32> a) {
    long[] k = layer.kernelShape();
    if (layer.kind() == RegisteredLayer.Kind.DENSE) {
      return homogeneous(tf, layer, a);
    }
    Shape in = a.shape();
    Operand<TFloat32> p = staticSpatial(in) ? tf.concat(shiftedSlices(tf, layer, a, in.get(1),
        in.get(2)), tf.constant(3)) : patches(tf, layer, a);
    return homogeneous(tf, layer, tf.reshape(p, tf.constant(new long[] {-1, k[0] * k[1] * k[2]})));
  }

  /**
   * The {@code [examples, d_in (+1)]} matrix of per-example mean patches (K-FAC-reduce's A rows;
   * the same as {@link #rows} for a dense layer).
   */
  public static Operand<TFloat32> meanRows(Ops tf, RegisteredLayer layer, Operand<TFloat32> a) {
    if (layer.kind() == RegisteredLayer.Kind.DENSE) {
      return rows(tf, layer, a);
    }
    Shape in = a.shape();
    if (!staticSpatial(in)) {
      return homogeneous(tf, layer, tf.math.mean(patches(tf, layer, a),
          tf.constant(new int[] {1, 2})));
    }
    List<Operand<TFloat32>> means = new ArrayList<>();
    for (Operand<TFloat32> slice : shiftedSlices(tf, layer, a, in.get(1), in.get(2))) {
      means.add(tf.math.mean(slice, tf.constant(new int[] {1, 2})));
    }
    return homogeneous(tf, layer, means.size() == 1 ? means.get(0)
        : tf.concat(means, tf.constant(1)));
  }

  private static boolean staticSpatial(Shape in) {
    return in.numDimensions() == 4 && in.get(1) > 0 && in.get(2) > 0 && in.get(3) > 0;
  }

  /**
   * The input under each kernel offset (dy, dx) at every output location, as {@code kh kw}
   * strided slices {@code [B, H_out, W_out, c_in]} of the zero-padded input, in (dy, dx) order:
   * concatenated along channels they are {@code ExtractImagePatches}' output (depth in (row,
   * column, channel) order), and their spatial means are the mean patch. Slicing is a plain
   * strided copy, cheaper on CPU than the patch op.
   */
  private static List<Operand<TFloat32>> shiftedSlices(Ops tf, RegisteredLayer layer,
      Operand<TFloat32> a, long h, long w) {
    long[] k = layer.kernelShape();
    long sh = layer.strides().get(0);
    long sw = layer.strides().get(1);
    boolean same = layer.padding().equals("SAME");
    long outH = same ? (h + sh - 1) / sh : (h - k[0]) / sh + 1;
    long outW = same ? (w + sw - 1) / sw : (w - k[1]) / sw + 1;
    long padH = same ? Math.max((outH - 1) * sh + k[0] - h, 0) : 0;
    long padW = same ? Math.max((outW - 1) * sw + k[1] - w, 0) : 0;
    Operand<TFloat32> padded = padH == 0 && padW == 0 ? a : tf.pad(a, tf.constant(new long[][] {
        {0, 0}, {padH / 2, padH - padH / 2}, {padW / 2, padW - padW / 2}, {0, 0}}),
        tf.constant(0f));
    List<Operand<TFloat32>> parts = new ArrayList<>();
    for (long dy = 0; dy < k[0]; dy++) {
      for (long dx = 0; dx < k[1]; dx++) {
        Operand<TFloat32> slice = tf.stridedSlice(padded,
            tf.constant(new long[] {0, dy, dx, 0}),
            tf.constant(new long[] {0, dy + (outH - 1) * sh + 1, dx + (outW - 1) * sw + 1, 0}),
            tf.constant(new long[] {1, sh, sw, 1}), StridedSlice.beginMask(9L),
            StridedSlice.endMask(9L));
        parts.add(slice);
      }
    }
    return parts;
  }

  /** The per-example sums over locations of the output gradients, {@code [examples, d_out]}. */
  public static Operand<TFloat32> summedOutputRows(Ops tf, RegisteredLayer layer,
      Operand<TFloat32> g) {
    return layer.kind() == RegisteredLayer.Kind.DENSE ? g
        : tf.reduceSum(g, tf.constant(new int[] {1, 2}));
  }

  private static Operand<TFloat32> patches(Ops tf, RegisteredLayer layer, Operand<TFloat32> a) {
    long[] k = layer.kernelShape();
    List<Long> strides = layer.strides();
    return tf.image.extractImagePatches(a, List.of(1L, k[0], k[1], 1L),
        List.of(1L, strides.get(0), strides.get(1), 1L), List.of(1L, 1L, 1L, 1L),
        layer.padding());
  }

  private static Operand<TFloat32> homogeneous(Ops tf, RegisteredLayer layer,
      Operand<TFloat32> m) {
    if (!layer.hasBias()) {
      return m;
    }
    Operand<TFloat32> ones = tf.onesLike(tf.slice(m, tf.constant(new int[] {0, 0}),
        tf.constant(new int[] {-1, 1})));
    return tf.concat(List.of(m, ones), tf.constant(1));
  }

  /** The per-location output gradients as a {@code [rows, d_out]} matrix. */
  public static Operand<TFloat32> outputRows(Ops tf, RegisteredLayer layer,
      Operand<TFloat32> g) {
    return layer.kind() == RegisteredLayer.Kind.DENSE ? g
        : tf.reshape(g, tf.constant(new long[] {-1, layer.outputDim()}));
  }
}
