package dev.dks.rewriter.kernel;

import dev.dks.rewriter.analysis.InputLayout;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TType;

/**
 * Where the kernel check reads a tensor that lies behind a relayout: models converted from ONNX
 * (nanodet) keep their tensors channels-first (NCHW) between layers and wrap every convolution
 * in Transposes to and from channels-last. The check reads a tensor's location 0 as its first F
 * values, F the last dimension, which is a location's feature vector only for a channels-last
 * tensor: at an NCHW tensor it read one channel along a row (nanodet's outputs: q 0.10 where 1
 * is predicted), and at a Transpose of a padded NCHW tensor the corner is the pad's border (q 0,
 * c NaN at every layer input of nanodet; {@link PaddedInterior} slices only a Pad's own output).
 *
 * <p>The tensor's layout is found by walking back through layout-keeping ops (elementwise ops,
 * pads, concatenations and splits along any axis) and Transposes by constant permutations to a
 * channels-last op (a convolution, a pool, a bias add, the check's built input, or any op not
 * known to keep the layout): composing the Transposes gives the permutation that makes the
 * tensor channels-last. When one or more Transposes were crossed, the check reads the
 * channels-last view at its centre location: the inputs hold one vector at every location and
 * Delta-initialized layers act per location, so every location away from the borders carries
 * the same values, and the centre is away from them (a pad's border is at most a few locations
 * wide). Tensors behind no Transpose are read as before.
 */
final class ChannelsLastView {
  private static final Set<String> KEEPS_LAYOUT = Set.of("Pad", "PadV2", "MirrorPad", "Identity",
      "ConcatV2", "SplitV", "Relu", "Relu6", "LeakyRelu", "Elu", "Selu", "Sigmoid", "Tanh",
      "Softplus", "Softsign", "Neg", "Square", "Sqrt", "Rsqrt", "Exp", "Abs", "Sin", "Cos",
      "Erf", "Cast", "Add", "AddV2", "Sub", "Mul", "RealDiv", "Maximum", "Minimum",
      "SquaredDifference");

  private ChannelsLastView() {}

  /**
   * The permutation that makes {@code node}'s output 0 channels-last, when a Transpose lies
   * between it and the channels-last op it comes from (possibly the identity: a Transpose back
   * to channels-last of a channels-first tensor); null when none does.
   */
  static int[] plan(GraphView g, String node) {
    List<int[]> perms = new ArrayList<>();
    String cur = node;
    for (int guard = 0; guard < 256 && g.contains(cur); guard++) {
      NodeDef n = g.get(cur);
      if (n.getOp().equals("Transpose") && n.getInputCount() >= 2) {
        int[] p = InputLayout.permutation(g, TensorName.parse(n.getInput(1)));
        if (p == null) {
          break;
        }
        perms.add(p);
        cur = TensorName.parse(n.getInput(0)).node();
        continue;
      }
      if (!KEEPS_LAYOUT.contains(n.getOp())) {
        break;
      }
      String next = null;
      for (String in : n.getInputList()) {
        if (in.startsWith("^")) {
          continue;
        }
        String src = TensorName.parse(in).node();
        if (g.contains(src) && !g.get(src).getOp().equals("Const")) {
          next = src;
          break;
        }
      }
      if (next == null) {
        break;
      }
      cur = next;
    }
    if (perms.isEmpty()) {
      return null;
    }
    int r = perms.get(0).length;
    int[] l = new int[r];
    for (int k = 0; k < r; k++) {
      l[k] = k;
    }
    // from the channels-last op forward: t = transpose(x, p) is made channels-last by
    // inv(p) composed with x's own permutation
    for (int i = perms.size() - 1; i >= 0; i--) {
      int[] p = perms.get(i);
      if (p.length != r) {
        return null;
      }
      int[] inv = InputLayout.inverse(p);
      int[] next = new int[r];
      for (int k = 0; k < r; k++) {
        next[k] = inv[l[k]];
      }
      l = next;
    }
    return l;
  }

  /** {@code t} made channels-last by {@code perm}, reduced to its centre location. */
  @SuppressWarnings("unchecked")
  static <T extends TType> Output<T> centre(Ops tf, Output<T> t, int[] perm) {
    Operand<T> u = InputLayout.identity(perm) ? t : tf.linalg.transpose(t, tf.constant(perm));
    int r = perm.length;
    if (r < 3) {
      return u.asOutput();
    }
    int[] mask = new int[r];
    int[] size = new int[r];
    for (int k = 0; k < r; k++) {
      boolean spatial = k > 0 && k < r - 1;
      mask[k] = spatial ? 1 : 0;
      size[k] = spatial ? 1 : -1;
    }
    Operand<TInt32> begin = tf.math.mul(tf.math.floorDiv(tf.shape(u), tf.constant(2)),
        tf.constant(mask));
    return tf.slice(u, begin, tf.constant(size)).output();
  }
}
