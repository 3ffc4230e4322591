package dev.dks.rewriter.kernel;

import dev.dks.rewriter.analysis.NetworkAnalysis;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.solver.network.Dag;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;

/**
 * Ops on a kernel DAG past which the per-location Q and C maps predict nothing, and the tensor a
 * check judges instead. The kernel check compares measured q and c with the values the local
 * maps give along the derived structure; that is sound only where every op between the fed
 * input and the measured tensor is a layer at its initialization (Delta or orthogonal weights
 * redrawn by {@code dks-init}), an activation, or an op that is the identity or an average for
 * the kernel. An op that carries trained weights the rewrite does not redraw and that mixes
 * locations makes the measured values depend on those weights, which no map knows:
 *
 * <ul>
 *   <li>{@code Conv2DBackpropInput} (a transposed convolution, the up-sampling of U-Nets and
 *       FPNs: handdetect, selfie, meet, efficientpose): it is no layer of the structure
 *       analysis, so {@code dks-init} leaves its trained kernel, and the analysis takes it for
 *       the identity. Its output's q is the trained kernel's gain, its c whatever those weights
 *       make of the input's, and its locations differ (each output location reads other taps).
 *   <li>{@code GatherV2}/{@code GatherNd} whose indices are computed from the fed input (a
 *       spatial transformer's sampling: facemesh-attention crops its feature maps at locations
 *       its own re-initialized heads predict): which values reach what follows depends on the
 *       network's outputs, not on a per-location map (facemesh-attention measured q = 0 after
 *       its crops, where the maps predict 1). A gather with constant indices is a fixed
 *       selection and stays predictable.
 * </ul>
 *
 * <p>Every tensor downstream of such an op is unpredictable. The check then judges the deepest
 * measured tensor upstream of all of them (the layers' inputs it measures anyway), and says so;
 * when there is none past the fed input, the output is not checked, with the reason. This is
 * not a pass for what follows: the report names the op and why.
 */
final class Unpredictable {
  private static final String TRANSPOSED = "a transposed convolution: the rewrite leaves its "
      + "trained kernel (it is not a layer dks-init redraws), and it mixes locations, so the "
      + "per-location maps cannot predict what follows it";

  /** Op types the maps cannot predict past, with why. */
  static final Map<String, String> OPS = Map.of(
      "Conv2DBackpropInput", TRANSPOSED,
      "Conv2DBackpropInputV2", TRANSPOSED,
      "Conv3DBackpropInputV2", TRANSPOSED);

  private static final String GATHER = "a gather whose indices are computed from the fed input "
      + "(e.g. a spatial transformer's sampling at locations the network predicts): which "
      + "values reach what follows depends on the network's outputs, so the per-location maps "
      + "cannot predict it";

  private static final Set<DataType> FLOATS = Set.of(
      DataType.DT_FLOAT, DataType.DT_DOUBLE,
      DataType.DT_HALF, DataType.DT_BFLOAT16);

  /**
   * Gather ops that are unpredictable when they gather floating-point features (not shape
   * arithmetic) at indices (input 1) that depend on the fed input.
   */
  static final Set<String> GATHERS = Set.of("GatherV2", "GatherNd",
      "Gather", "ResourceGather");

  private Unpredictable() {}

  /**
   * The op a tensor is downstream of, past which the maps predict nothing.
   *
   * @param node the op's node name
   * @param op its op type
   * @param why why the maps cannot predict past it
   */
  record Source(String node, String op, String why) {
    /** One sentence: the op and why. */
    @Override
    public String toString() {
      return "'" + node + "' (" + op + ") is " + why;
    }

    /** The short form for a row downstream of it: the op, without the why. */
    String shortName() {
      return "'" + node + "' (" + op + ")";
    }
  }

  /**
   * Per DAG node of {@code a} downstream of (or at) an op of {@link #OPS}: the first such op's
   * name and why, as one sentence. Nodes not in the map are predictable.
   */
  static Map<Integer, String> tainted(GraphView g, NetworkAnalysis a) {
    Map<Integer, String> out = new HashMap<>();
    sources(g, a).forEach((k, v) -> out.put(k, v.toString()));
    return out;
  }

  /**
   * As {@link #tainted}, the op each unpredictable node is downstream of (the first by name
   * where several reach it).
   */
  static Map<Integer, Source> sources(GraphView g, NetworkAnalysis a) {
    Map<Integer, Source> own = new HashMap<>();
    for (Map.Entry<String, Integer> e : a.dagIndex().entrySet()) {
      NodeDef n = g.get(e.getKey());
      String why = n == null ? null : OPS.get(n.getOp());
      if (n != null && GATHERS.contains(n.getOp()) && n.getInputCount() >= 2
          && n.containsAttr("Tparams") && FLOATS.contains(n.getAttrOrThrow("Tparams").getType())
          && computedFromInput(a, TensorName.parse(n.getInput(1)).node())) {
        why = GATHER;
      }
      if (why != null) {
        own.merge(e.getValue(), new Source(e.getKey(), n.getOp(), why),
            (x, y) -> x.toString().compareTo(y.toString()) <= 0 ? x : y);
      }
    }
    Map<Integer, Source> out = new HashMap<>();
    if (own.isEmpty()) {
      return out;
    }
    List<Dag.Node> nodes = a.dag().nodes();
    for (int i = 0; i < nodes.size(); i++) {
      Source why = own.get(i);
      for (int j = 0; why == null && j < nodes.get(i).inputs().length; j++) {
        why = out.get(nodes.get(i).inputs()[j]);
      }
      if (why == null && nodes.get(i).endsChain()) {
        why = out.get(a.dag().chainStart(i));
      }
      if (why != null) {
        out.put(i, why);
      }
    }
    return out;
  }

  /**
   * Whether {@code node} is computed from the fed input: a feature on the DAG, or index
   * arithmetic ({@link NetworkAnalysis#indexArithmetic}), which is not on it.
   */
  private static boolean computedFromInput(NetworkAnalysis a, String node) {
    return a.dagIndex().containsKey(node) || a.indexArithmetic().contains(node);
  }

  /**
   * The tensor a check of {@code measured} (layer inputs in DAG order, then the output's end)
   * judges: the last layer's input when it is predictable, else the deepest measured tensor
   * before it that is (index into {@code measured}), or -1 when only the fed input (index 0) is.
   */
  static int judgedIndex(List<String> measured, Map<String, Integer> dagIndex,
      Map<Integer, ?> tainted) {
    int last = Math.max(0, measured.size() - 2);
    for (int i = last; i >= 1; i--) {
      if (!tainted.containsKey(dagIndex.get(measured.get(i)))) {
        return i;
      }
    }
    return last == 0 ? 0 : -1;
  }
}
