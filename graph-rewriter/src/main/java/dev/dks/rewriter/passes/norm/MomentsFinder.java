package dev.dks.rewriter.passes.norm;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.NodeDef;

/**
 * Recognizes moments computed in the graph from a tensor x, as {@code tf.nn.moments} and
 * hand-written LayerNorms write them: the mean {@code Mean(x, axes)} and the variance {@code
 * Mean(SquaredDifference(x, StopGradient(mean)), axes)} or {@code Mean(Square(x - mean), axes)}
 * (through Identity / StopGradient / Squeeze wrappers), or the mean of squares of RMS norm.
 */
final class MomentsFinder {
  private static final Set<String> WRAPPERS = Set.of("Identity", "StopGradient", "Squeeze",
      "Snapshot");

  private final GraphView g;

  MomentsFinder(GraphView g) {
    this.g = g;
  }

  /**
   * Moments of x.
   *
   * @param x the tensor whose statistics they are
   * @param mean the mean node, null for RMS norm
   * @param variance the variance (mean of squares) node
   * @param axes the reduction axes
   * @param nodes the nodes computing them
   */
  record Moments(TensorName x, String mean, String variance, long[] axes, Set<String> nodes) {}

  /**
   * The moments of {@code variance}'s input if it is one: {@code Mean(SquaredDifference(x,
   * [StopGradient] Mean(x)))}, {@code Mean(Square(x - Mean(x)))}, or {@code Mean(Square(x))}
   * (RMS norm); null otherwise.
   */
  Moments find(TensorName variance) throws Bail {
    String vNode = unwrap(variance);
    NodeDef v = g.get(vNode);
    if (!v.getOp().equals("Mean")) {
      return null;
    }
    List<TensorName> vIns = GraphEdits.dataInputs(v);
    NodeDef sq = g.find(vIns.get(0).node()).orElse(null);
    if (sq == null) {
      return null;
    }
    long[] axes = axes(vIns.get(1));
    Set<String> nodes = new LinkedHashSet<>(List.of(vNode, sq.getName()));
    List<TensorName> sqIns = GraphEdits.dataInputs(sq);
    TensorName x;
    String mean = null;
    switch (sq.getOp()) {
      case "SquaredDifference" -> {
        TensorName[] pair = meanPair(sqIns.get(0), sqIns.get(1));
        if (pair == null) {
          return null;
        }
        x = pair[0];
        mean = unwrap(pair[1]);
      }
      case "Square", "Mul" -> {
        if (sq.getOp().equals("Mul") && !sqIns.get(0).equals(sqIns.get(1))) {
          return null;
        }
        TensorName d = sqIns.get(0);
        NodeDef dn = g.get(d.node());
        if (dn.getOp().equals("Sub")) {
          List<TensorName> dIns = GraphEdits.dataInputs(dn);
          String m = unwrap(dIns.get(1));
          if (!isMeanOf(m, dIns.get(0))) {
            return null;
          }
          x = dIns.get(0);
          mean = m;
        } else {
          x = d; // RMS norm: mean of squares
        }
      }
      default -> {
        return null;
      }
    }
    if (mean != null) {
      long[] meanAxes = axes(GraphEdits.dataInputs(g.get(mean)).get(1));
      if (!Arrays.equals(meanAxes, axes)) {
        throw new Bail("mean over axes " + Arrays.toString(meanAxes) + " but variance over "
            + Arrays.toString(axes));
      }
      nodes.add(mean);
    }
    return new Moments(x, mean, vNode, axes, nodes);
  }

  /** {x, mean} when one operand is a Mean of the other (looked through wrappers). */
  private TensorName[] meanPair(TensorName a, TensorName b) {
    if (isMeanOf(unwrap(b), a)) {
      return new TensorName[] {a, b};
    }
    if (isMeanOf(unwrap(a), b)) {
      return new TensorName[] {b, a};
    }
    return null;
  }

  private boolean isMeanOf(String node, TensorName x) {
    NodeDef n = g.find(node).orElse(null);
    return n != null && n.getOp().equals("Mean")
        && GraphEdits.dataInputs(n).get(0).equals(x);
  }

  private String unwrap(TensorName t) {
    String cur = t.node();
    for (int i = 0; i < 8; i++) {
      NodeDef n = g.get(cur);
      if (!WRAPPERS.contains(n.getOp())) {
        break;
      }
      cur = GraphEdits.dataInputs(n).get(0).node();
    }
    return cur;
  }

  private long[] axes(TensorName t) throws Bail {
    return new ParamEvaluator(g, Map.of()).intConstant(t);
  }

  static NormKind classify(long[] axes) {
    boolean batch = false;
    for (long a : axes) {
      batch |= a == 0;
    }
    if (batch) {
      return NormKind.BATCH_NORM;
    }
    return axes.length == 1 ? NormKind.LAYER_NORM : NormKind.OTHER;
  }
}
