package dev.dks.rewriter.analysis;

import dev.dks.rewriter.graph.TensorName;
import java.util.List;
import java.util.Set;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;

/**
 * Matches an elementwise product of two streams of the network: a {@code Mul} of the body whose
 * two data operands are both computed from the network input (neither is a constant or a value
 * independent of the input) and are different tensors, in floating point. Broadcasting is allowed
 * (a squeeze-and-excitation gate of shape [N, 1, 1, C] times features [N, H, W, C], a per-example
 * scalar stream [N, 1] times [N, K]).
 *
 * <p>Such a node is a {@code Dag.Kind#PRODUCT} of the kernel structure: C maps multiply ({@code
 * KernelSemantics#product}). Not matched here: a Mul by a constant (a weight of a sum, a scaling:
 * the identity for the kernel), a Mul of two elementwise functions of the same tensor with no
 * layer between (the analysis sees a rescaling there first; hard-swish {@code x relu6(x+3)/6} is
 * an activation site of {@link ActivationMatcher}).
 */
final class StreamProduct {
  private StreamProduct() {}

  /**
   * True when {@code n} multiplies two distinct streams: op Mul, in {@code body}, floating point,
   * exactly two data operands, both produced by nodes in {@code onPath} (on a path from the
   * inputs).
   */
  static boolean matches(NodeDef n, Set<String> onPath, Set<String> body) {
    if (!n.getOp().equals("Mul") || !body.contains(n.getName())) {
      return false;
    }
    DataType t = n.containsAttr("T") ? n.getAttrOrThrow("T").getType() : DataType.DT_FLOAT;
    if (t != DataType.DT_FLOAT && t != DataType.DT_DOUBLE && t != DataType.DT_HALF
        && t != DataType.DT_BFLOAT16) {
      return false;
    }
    List<TensorName> data = n.getInputList().stream().map(TensorName::parse)
        .filter(x -> !x.isControl()).toList();
    return data.size() == 2 && !data.get(0).equals(data.get(1))
        && onPath.contains(data.get(0).node()) && onPath.contains(data.get(1).node());
  }
}
