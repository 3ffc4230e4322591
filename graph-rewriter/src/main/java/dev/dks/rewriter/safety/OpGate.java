package dev.dks.rewriter.safety;

import dev.dks.rewriter.model.Model;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/**
 * The check every public entry point that runs or writes a graph makes first (untrusted models,
 * issue 17): the ops of {@link OpPolicy} it would run or write must be in {@code allowedOps}
 * (empty by default: nothing with effects outside the tensors). Which nodes count depends on the
 * entry point:
 *
 * <ul>
 *   <li>{@link #requireServingSafe}: the serving path, the ancestors of the model's signature
 *       outputs (data and control inputs, through called functions): what an exporter writes
 *       for serving and what TF Serving runs;
 *   <li>{@link #requireGraphSafe}: every node of the graph (and the functions they call): what a
 *       session over the whole graph can run (a model session, the kernel check, the trainer) or
 *       what a training export writes.
 * </ul>
 *
 * SavedModel folders, whose loader also runs an init and a restore op, are checked from their
 * meta graphs by {@code dev.dks.savedmodels.UntrustedOps}, with the same exception.
 */
public final class OpGate {
  private OpGate() {}

  /**
   * Refuses {@code model} when its serving path holds a policy op not in {@code allowedOps}.
   *
   * @param what names the model in the message (a path or "the model given to ...")
   * @throws UnsafeOpsException naming the nodes
   */
  public static void requireServingSafe(Model model, Set<String> allowedOps, String what) {
    refuse(what, OpScanner.refused(OpScanner.scan(model.graph(), model.outputNodes()),
        allowedOps));
  }

  /**
   * Refuses {@code graph} when any of its nodes (or a function one calls) is a policy op not in
   * {@code allowedOps}.
   *
   * @throws UnsafeOpsException naming the nodes
   */
  public static void requireGraphSafe(GraphDef graph, Set<String> allowedOps, String what) {
    List<String> all = new ArrayList<>();
    for (NodeDef n : graph.getNodeList()) {
      all.add(n.getName());
    }
    refuse(what, OpScanner.refused(OpScanner.scan(graph, all), allowedOps));
  }

  /**
   * Throws {@link UnsafeOpsException} for {@code nodes} (descriptions from {@link
   * OpScanner#refused}) found in {@code where}; does nothing when there are none.
   */
  public static void refuse(String where, List<String> nodes) {
    if (nodes.isEmpty()) {
      return;
    }
    Set<String> ops = new LinkedHashSet<>();
    for (String d : nodes) {
      int open = d.lastIndexOf(" (");
      int comma = d.indexOf(',', open);
      ops.add(d.substring(open + 2, comma));
    }
    throw new UnsafeOpsException(where, nodes, List.copyOf(ops));
  }
}
