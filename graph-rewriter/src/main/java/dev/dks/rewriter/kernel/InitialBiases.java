package dev.dks.rewriter.kernel;

import dev.dks.rewriter.analysis.LayerSite;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorProtos;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * The biases of the analysed layers that are not zero. The kernel check's prediction assumes
 * every layer's bias is zero at initialization ({@code dks-init} zeroes them): a bias b adds
 * |b|^2/width to each unit's q and pulls c towards 1, which no map knows. A model shaped without
 * zeroing some (before session 18, the biases of Keras Dense applied through tensordot were
 * missed: {@code ReshapedBias}) mis-predicts without saying why; the check reads them first and
 * says which. It does not fail the verdict on them: the verdict is about the measured kernel,
 * and a small bias may leave it within the tolerances.
 *
 * <p>Rule: a float32 bias (a variable, or a Const in a frozen graph) whose root mean square
 * exceeds {@value #RMS_THRESHOLD}. {@code dks-init} writes exact zeros, and any trained bias is
 * orders of magnitude above that, so the rule tells "not zeroed" from "zeroed" without a scale;
 * whether a given bias moves the kernel past the tolerance is the measurement's business.
 */
public final class InitialBiases {
  /** Root mean square above which a bias counts as not zero. */
  public static final double RMS_THRESHOLD = 1e-6;

  /**
   * A bias that is not zero.
   *
   * @param layer the layer node it is added after (MatMul, Conv2D, ...)
   * @param bias the variable or Const node holding it
   * @param rms its values' root mean square
   */
  public record NonZero(String layer, String bias, double rms) {}

  private InitialBiases() {}

  /**
   * The biases of {@code layers} (each variable once, in layer order) whose RMS exceeds {@link
   * #RMS_THRESHOLD}; biases that are not float32 or cannot be read are left out.
   */
  public static List<NonZero> nonZero(Model model, GraphView g, List<LayerSite> layers) {
    List<NonZero> out = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (LayerSite l : layers) {
      String b = l.biasVariable();
      if (b.isEmpty() || !seen.add(b)) {
        continue;
      }
      TensorProto t = value(model, g, b);
      if (t == null || t.getDtype() != DataType.DT_FLOAT) {
        continue;
      }
      float[] v = TensorProtos.floats(t);
      double rms = rms(v);
      if (!(rms <= RMS_THRESHOLD)) { // a NaN bias is not zero either
        out.add(new NonZero(l.node(), b, rms));
      }
    }
    return out;
  }

  /** The root mean square of {@code v} (0 for none); a NaN value makes it NaN. */
  static double rms(float[] v) {
    if (v.length == 0) {
      return 0;
    }
    double s = 0;
    for (float x : v) {
      s += (double) x * x;
    }
    return Math.sqrt(s / v.length);
  }

  /**
   * A warning naming up to {@code named} of {@code biases} (then a count) and what to do; null
   * when there are none.
   */
  public static String warning(List<NonZero> biases, int named) {
    if (biases.isEmpty()) {
      return null;
    }
    StringBuilder b = new StringBuilder();
    b.append(String.format(java.util.Locale.ROOT, "%d analysed layer%s ha%s a non-zero bias "
        + "(", biases.size(), biases.size() == 1 ? "" : "s", biases.size() == 1 ? "s" : "ve"));
    for (int i = 0; i < Math.min(named, biases.size()); i++) {
      NonZero n = biases.get(i);
      b.append(i == 0 ? "" : ", ").append(String.format(java.util.Locale.ROOT,
          "'%s' of layer '%s', RMS %.3g", n.bias(), n.layer(), n.rms()));
    }
    if (biases.size() > named) {
      b.append(String.format(", and %d more", biases.size() - named));
    }
    return b.append("): the prediction assumes zero biases at initialization, so the layers "
        + "after them may be mis-predicted; re-run `dks rewrite` on the original model (its "
        + "dks-init pass zeroes the biases of the layers it initializes), or zero them").toString();
  }

  /** The value of {@code node}: a variable's, or a Const's; null when neither. */
  private static TensorProto value(Model model, GraphView g, String node) {
    TensorProto v = model.variables().get(node);
    if (v != null) {
      return v;
    }
    Optional<NodeDef> n = g.find(node);
    if (n.isPresent() && n.get().getOp().equals("Const") && n.get().containsAttr("value")
        && n.get().getAttrOrThrow("value").hasTensor()) {
      return n.get().getAttrOrThrow("value").getTensor();
    }
    return null;
  }
}
