package dev.dks.trainers.kfac;

import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.StridedSlice;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

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
    Operand<TFloat32> p = staticSpatial(in) ? concatDepth(tf, shiftedSlices(tf, layer, a,
        in.get(1), in.get(2)), 3) : patches(tf, layer, a);
    return homogeneous(tf, layer, tf.reshape(p, tf.constant(new long[] {-1, k[0] * k[1] * k[2]})));
  }

  /**
   * The {@code [examples, d_in (+1)]} matrix of per-example mean patches (K-FAC-reduce's A rows;
   * the same as {@link #rows} for a dense layer), without building the patches: one average pool
   * of the padded input for stride 1, the means of {@code kh kw} strided slices otherwise.
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
    Geometry g = new Geometry(layer, in.get(1), in.get(2));
    if (g.sh == 1 && g.sw == 1) {
      // stride 1: the mean patch at offset (dy, dx) is the mean of the padded input over the
      // H_out x W_out window starting there, so one VALID average pool with that window gives
      // every offset at once, [B, kh, kw, c_in], already in the patch's (row, column, channel)
      // order; no shifted copies of the input
      Operand<TFloat32> pooled = tf.nn.avgPool(g.pad(tf, a), List.of(1L, g.outH, g.outW, 1L),
          List.of(1L, 1L, 1L, 1L), "VALID");
      return homogeneous(tf, layer, tf.reshape(pooled,
          tf.constant(new long[] {-1, g.kh * g.kw * in.get(3)})));
    }
    List<Operand<TFloat32>> means = new ArrayList<>();
    for (Operand<TFloat32> slice : shiftedSlices(tf, layer, a, in.get(1), in.get(2))) {
      means.add(tf.math.mean(slice, tf.constant(new int[] {1, 2})));
    }
    return homogeneous(tf, layer, concatDepth(tf, means, 1));
  }

  /** The parts concatenated along {@code axis} (ConcatV2 needs two; a 1x1 kernel has one part). */
  private static Operand<TFloat32> concatDepth(Ops tf, List<Operand<TFloat32>> parts, int axis) {
    return parts.size() == 1 ? parts.get(0) : tf.concat(parts, tf.constant(axis));
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
    Geometry g = new Geometry(layer, h, w);
    Operand<TFloat32> padded = g.pad(tf, a);
    List<Operand<TFloat32>> parts = new ArrayList<>();
    for (long dy = 0; dy < g.kh; dy++) {
      for (long dx = 0; dx < g.kw; dx++) {
        Operand<TFloat32> slice = tf.stridedSlice(padded,
            tf.constant(new long[] {0, dy, dx, 0}),
            tf.constant(new long[] {0, dy + (g.outH - 1) * g.sh + 1,
                dx + (g.outW - 1) * g.sw + 1, 0}),
            tf.constant(new long[] {1, g.sh, g.sw, 1}), StridedSlice.beginMask(9L),
            StridedSlice.endMask(9L));
        parts.add(slice);
      }
    }
    return parts;
  }

  /**
   * {@code count} rows of {@link #rows}' matrix for a Conv2D layer, drawn uniformly with
   * replacement (stateless, from {@code seed}) among its {@code examples x H_out x W_out} rows and
   * gathered from the padded input without building the other rows: the mean of their outer
   * products is an unbiased estimate of the batch's A at {@code count d_in} multiply-adds instead
   * of {@code examples T d_in}.
   *
   * @param a the layer input {@code [examples, H, W, c_in]} with static H, W, c_in
   * @param seed an int64 {@code [2]} seed of stateless random ops
   */
  public static Operand<TFloat32> sampledRows(Ops tf, RegisteredLayer layer, Operand<TFloat32> a,
      long count, Operand<TInt64> seed) {
    Operand<TInt32> examples = tf.gather(tf.shape(a), tf.constant(0), tf.constant(0));
    return sampledRows(tf, layer, a, count, seed, tf.constant(0), examples);
  }

  /**
   * As {@link #sampledRows(Ops, RegisteredLayer, Operand, long, Operand)} for one data-parallel
   * replica: the {@code count} rows are drawn among the {@code globalExamples x H_out x W_out}
   * rows of the global batch, exactly as one process holding the global batch draws them, and
   * this replica, whose {@code a} holds the examples from global position {@code firstExample} on,
   * returns the draws that fall on its examples and zero rows (homogeneous coordinate included)
   * for the others. The replicas' results therefore add up, row for row, to the one process's.
   *
   * @param firstExample the global position of {@code a}'s first example (int32 scalar)
   * @param globalExamples the number of examples drawn from over all replicas (int32 scalar)
   */
  public static Operand<TFloat32> sampledRows(Ops tf, RegisteredLayer layer, Operand<TFloat32> a,
      long count, Operand<TInt64> seed, Operand<TInt32> firstExample,
      Operand<TInt32> globalExamples) {
    Shape in = a.shape();
    if (layer.kind() != RegisteredLayer.Kind.CONV2D || !staticSpatial(in)) {
      throw new IllegalArgumentException("sampled patch rows need a Conv2D layer with a static "
          + "input height, width and depth; " + layer.output() + " has input " + in);
    }
    Geometry g = new Geometry(layer, in.get(1), in.get(2));
    long hp = in.get(1) + g.padH;
    long wp = in.get(2) + g.padW;
    Operand<TInt32> examples = tf.gather(tf.shape(a), tf.constant(0), tf.constant(0));
    // one zero example after the local ones: the rows drawn elsewhere read it (always in range)
    Operand<TFloat32> padded = tf.concat(List.of(g.pad(tf, a), tf.zeros(tf.constant(new long[] {
        1, hp, wp, in.get(3)}), TFloat32.class)), tf.constant(0));
    Operand<TFloat32> flat = tf.reshape(padded, tf.constant(new long[] {-1, in.get(3)}));
    int perExample = Math.toIntExact(g.outH * g.outW);
    Operand<TInt32> global = tf.random.statelessRandomUniformInt(
        tf.constant(new int[] {Math.toIntExact(count)}), seed, tf.constant(0),
        tf.math.mul(globalExamples, tf.constant(perExample)));
    Operand<TInt32> local = tf.math.sub(global, tf.math.mul(firstExample,
        tf.constant(perExample)));
    Operand<TBool> mine = tf.math.logicalAnd(tf.math.greaterEqual(local, tf.constant(0)),
        tf.math.less(local, tf.math.mul(examples, tf.constant(perExample))));
    Operand<TInt32> mineInt = tf.dtypes.cast(mine, TInt32.class);
    // rows of other replicas point at the zero example's first window
    Operand<TInt32> r = tf.math.add(tf.math.mul(local, mineInt), tf.math.mul(
        tf.math.sub(tf.constant(1), mineInt), tf.math.mul(examples, tf.constant(perExample))));
    Operand<TInt32> location = tf.math.floorMod(r, tf.constant(perExample));
    // the top-left corner of the window of row r in the flattened padded input
    Operand<TInt32> corner = tf.math.add(tf.math.add(
        tf.math.mul(tf.math.floorDiv(r, tf.constant(perExample)),
            tf.constant(Math.toIntExact(hp * wp))),
        tf.math.mul(tf.math.floorDiv(location, tf.constant((int) g.outW)),
            tf.constant(Math.toIntExact(g.sh * wp)))),
        tf.math.mul(tf.math.floorMod(location, tf.constant((int) g.outW)),
            tf.constant((int) g.sw)));
    int[][] offsets = new int[1][Math.toIntExact(g.kh * g.kw)];
    for (int dy = 0; dy < g.kh; dy++) {
      for (int dx = 0; dx < g.kw; dx++) {
        offsets[0][Math.toIntExact(dy * g.kw + dx)] = Math.toIntExact(dy * wp + dx);
      }
    }
    Operand<TInt32> index = tf.math.add(tf.reshape(corner, tf.constant(new int[] {-1, 1})),
        tf.constant(offsets));
    Operand<TFloat32> rows = tf.reshape(tf.gather(flat, index, tf.constant(0)),
        tf.constant(new long[] {count, g.kh * g.kw * in.get(3)}));
    Operand<TFloat32> keep = tf.reshape(tf.dtypes.cast(mine, TFloat32.class),
        tf.constant(new long[] {count, 1}));
    return tf.math.mul(homogeneous(tf, layer, rows), keep);
  }

  /** Output size and padding of an NHWC Conv2D on an {@code h x w} input. */
  private static final class Geometry {
    final long kh;
    final long kw;
    final long sh;
    final long sw;
    final long outH;
    final long outW;
    final long padH;
    final long padW;

    Geometry(RegisteredLayer layer, long h, long w) {
      long[] k = layer.kernelShape();
      kh = k[0];
      kw = k[1];
      sh = layer.strides().get(0);
      sw = layer.strides().get(1);
      boolean same = layer.padding().equals("SAME");
      outH = same ? (h + sh - 1) / sh : (h - kh) / sh + 1;
      outW = same ? (w + sw - 1) / sw : (w - kw) / sw + 1;
      padH = same ? Math.max((outH - 1) * sh + kh - h, 0) : 0;
      padW = same ? Math.max((outW - 1) * sw + kw - w, 0) : 0;
    }

    /** The input zero-padded as TF pads it for SAME (the extra row/column at the end). */
    Operand<TFloat32> pad(Ops tf, Operand<TFloat32> a) {
      return padH == 0 && padW == 0 ? a : tf.pad(a, tf.constant(new long[][] {
          {0, 0}, {padH / 2, padH - padH / 2}, {padW / 2, padW - padW / 2}, {0, 0}}),
          tf.constant(0f));
    }
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
