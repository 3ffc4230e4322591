package dev.dks.trainers.graph;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Deque;
import java.util.HashSet;
import java.util.Set;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/**
 * An inference-form twin of the part of a network that batch normalization in training form
 * changes, so that one session can both train with batch statistics and evaluate with the moving
 * ones, with no cost to the training step (TF has no cheap way to switch an op attribute per run,
 * and a {@code Select} between two BN forms would run both every step).
 *
 * <p>The twin holds, under {@code prefix/}, a copy of every node of the inference-form graph that
 * lies both downstream of a trained BN node and upstream of the root (the logits). Inputs from
 * outside that set — variables, the input placeholder, layers before the first BN — are shared
 * with the training network, so the twin adds no variables and reads the current weights and
 * moving statistics. The training network and the twin are imported together as one GraphDef
 * (TF Java 1.1.0's import cannot map inputs to nodes already in a graph).
 */
final class InferenceCopy {
  private InferenceCopy() {}

  /**
   * {@code training} plus the twin, copied from {@code inference} (same node names; it differs
   * from {@code training} only in the BN nodes' form).
   *
   * @param bnNodes the BN nodes in training form
   * @param root the node whose inference form is needed
   * @param prefix the twin's name scope (no node of {@code training} may start with it)
   */
  static GraphDef with(GraphDef training, GraphDef inference, Collection<String> bnNodes,
      String root, String prefix) {
    GraphView inf = GraphView.of(inference);
    Set<String> upstream = inf.ancestors(java.util.List.of(root));
    Set<String> copy = new HashSet<>();
    Deque<String> todo = new ArrayDeque<>(bnNodes);
    while (!todo.isEmpty()) {
      String n = todo.pop();
      if (!upstream.contains(n) || !copy.add(n)) {
        continue;
      }
      todo.addAll(inf.consumers(n));
    }
    GraphDef.Builder out = training.toBuilder();
    for (NodeDef n : inference.getNodeList()) {
      if (!copy.contains(n.getName())) {
        continue;
      }
      NodeDef.Builder b = n.toBuilder().setName(prefix + "/" + n.getName()).clearInput();
      for (String in : n.getInputList()) {
        TensorName t = TensorName.parse(in);
        b.addInput(copy.contains(t.node())
            ? new TensorName(prefix + "/" + t.node(), t.index()).toString() : in);
      }
      out.addNode(b);
    }
    return out.build();
  }
}
