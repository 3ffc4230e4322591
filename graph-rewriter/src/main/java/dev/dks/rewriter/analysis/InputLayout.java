package dev.dks.rewriter.analysis;

import dev.dks.rewriter.graph.ConstReads;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import java.util.List;
import java.util.Set;
import org.tensorflow.proto.NodeDef;

/**
 * The layout of a channels-first input: models converted from ONNX (nanodet: input {@code
 * [1, 3, 416, 416]}, NCHW) keep their input channels-first and put a {@code Transpose} to
 * channels-last in front of every convolution. The input's feature (channel) axis is then not
 * its last axis: per-location normalization must average over the channel axis (over the last,
 * it normalized each image row over its width), and the kernel check must put its pairs'
 * feature vector on that axis (on the last, every location's channel vector was one value
 * repeated, and the pairs reached the first layer with c = +-1).
 *
 * <p>Found by following the input forward through its per-location normalization (a node
 * {@code P/pln/normalized}), pads and constant elementwise preprocessing ({@link
 * InputPreprocessing}) to a {@code Transpose} by a constant permutation that a channels-last
 * convolution or pool reads: the permutation {@code p} with {@code transpose(x, p)} channels
 * last, so x's channel axis is {@code p[rank - 1]}.
 */
public final class InputLayout {
  /** Channels-last readers whose input 0 fixes the transposed tensor's layout. */
  private static final Set<String> CHANNELS_LAST = Set.of("Conv2D", "DepthwiseConv2dNative",
      "MaxPool", "AvgPool");
  private static final Set<String> STEPS = Set.of("Pad", "PadV2", "MirrorPad", "Sub", "Add",
      "AddV2", "Mul", "RealDiv", "Cast", "Identity");

  private InputLayout() {}

  /**
   * The permutation that makes {@code start}'s output 0 channels-last, or null when it is
   * channels-last already or no such Transpose is found (then the last axis is taken, as
   * before).
   */
  public static int[] toChannelsLast(GraphView g, String start) {
    String cur = start;
    for (int guard = 0; guard < 64; guard++) {
      if (g.contains(cur + "/pln/normalized")) {
        cur = cur + "/pln/normalized";
        continue;
      }
      List<String> readers = valueReaders(g, cur);
      if (readers.size() != 1) {
        return null;
      }
      NodeDef n = g.get(readers.get(0));
      boolean first = n.getInputCount() > 0
          && TensorName.parse(n.getInput(0)).equals(TensorName.of(cur));
      if (!first && (n.getOp().equals("Transpose") || n.getOp().contains("Pad"))) {
        return null;
      }
      if (n.getOp().equals("Transpose")) {
        int[] p = permutation(g, TensorName.parse(n.getInput(1)));
        if (p == null || identity(p)) {
          return null;
        }
        boolean layer = valueReaders(g, n.getName()).stream().map(g::get).anyMatch(r ->
            CHANNELS_LAST.contains(r.getOp())
            && TensorName.parse(r.getInput(0)).equals(TensorName.of(n.getName()))
            && (!r.containsAttr("data_format")
                || r.getAttrOrThrow("data_format").getS().toStringUtf8().equals("NHWC")));
        return layer ? p : null;
      }
      if (!STEPS.contains(n.getOp())) {
        return null;
      }
      cur = n.getName();
    }
    return null;
  }

  /** {@code p}'s inverse: {@code inv[p[k]] = k}. */
  public static int[] inverse(int[] p) {
    int[] inv = new int[p.length];
    for (int k = 0; k < p.length; k++) {
      inv[p[k]] = k;
    }
    return inv;
  }

  /** True when {@code p} is the identity permutation. */
  public static boolean identity(int[] p) {
    for (int k = 0; k < p.length; k++) {
      if (p[k] != k) {
        return false;
      }
    }
    return true;
  }

  /** The values of a constant int permutation (int32 or int64 Const, through Identity). */
  public static int[] permutation(GraphView g, TensorName t) {
    int[] out = ConstReads.ints(g, t);
    if (out == null) {
      return null;
    }
    boolean[] seen = new boolean[out.length];
    for (int k : out) {
      if (k < 0 || k >= out.length || seen[k]) {
        return null;
      }
      seen[k] = true;
    }
    return out.length == 0 ? null : out;
  }

  private static List<String> valueReaders(GraphView g, String cur) {
    return g.dataConsumers(TensorName.of(cur)).stream()
        .filter(r -> !IndexArguments.readsShapeOnly(g.get(r).getOp())).toList();
  }
}
