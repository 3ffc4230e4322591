package dev.dks.rewriter.analysis;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.tensorflow.proto.NodeDef;

/**
 * Conditionals in a network's body: {@code tf.cond} as TF1 writes it (Switch routes a tensor to
 * one of two branches, Merge takes the branch that ran) or as a functional op (If, StatelessIf,
 * Case, StatelessCase). TensorFlow's C++ gradient registry, which trains the rewritten model from
 * Java, has no gradient for any of them, so a body that holds one cannot be trained: the rewrite
 * refuses it before changing anything, naming the nodes and the inputs the predicate is computed
 * from. In a head (after the last layer) a conditional is left as it is, like a loop.
 */
public final class BodyConditionals {
  /** The ops of a conditional. */
  public static final Set<String> OPS = Set.of("Switch", "RefSwitch", "Merge", "RefMerge", "If",
      "StatelessIf", "Case", "StatelessCase");

  /** The construct name the refusal carries. */
  public static final String CONSTRUCT = "tf.cond (Switch/Merge) in the body";

  private BodyConditionals() {}

  /** The conditional nodes of {@code body}, in graph order. */
  public static List<String> find(GraphView g, Set<String> body) {
    List<String> out = new ArrayList<>();
    for (NodeDef n : g.nodes()) {
      if (OPS.contains(n.getOp()) && body.contains(n.getName())) {
        out.add(n.getName());
      }
    }
    return out;
  }

  /**
   * Throws the typed refusal when the analysed body holds a conditional.
   *
   * @param inputs the network's input nodes (to name the ones a predicate is computed from)
   * @throws UnsupportedConstructException naming the Switch/Merge/If nodes, the predicates'
   *     inputs, and what to do
   */
  public static void refuse(GraphView g, NetworkAnalysis a, List<String> inputs) {
    List<String> found = find(g, a.body());
    if (found.isEmpty()) {
      return;
    }
    Set<String> predicates = new LinkedHashSet<>();
    Set<String> predicateInputs = new LinkedHashSet<>();
    for (String name : found) {
      TensorName pred = predicate(g.get(name));
      if (pred != null && predicates.add(pred.node())) {
        Set<String> anc = dataAncestors(g, pred.node());
        inputs.stream().filter(anc::contains).forEach(predicateInputs::add);
      }
    }
    List<String> shown = new ArrayList<>();
    found.stream().filter(n -> g.get(n).getOp().endsWith("Switch")).findFirst()
        .ifPresent(shown::add);
    found.stream().filter(n -> !g.get(n).getOp().endsWith("Switch")).findFirst()
        .ifPresent(shown::add);
    StringBuilder m = new StringBuilder("the body holds a tf.cond: ").append(found.size())
        .append(" Switch/Merge nodes come before the last layer (e.g. ");
    for (int i = 0; i < shown.size(); i++) {
      m.append(i == 0 ? "" : ", ").append('\'').append(shown.get(i)).append("' (")
          .append(g.get(shown.get(i)).getOp()).append(')');
    }
    m.append(')');
    if (!predicates.isEmpty()) {
      m.append("; ").append(predicates.size() == 1 ? "its predicate is '"
          : "their predicates are '").append(String.join("', '", predicates)).append('\'')
          .append(predicateInputs.isEmpty() ? ", a constant" : ", computed from the input "
              + quoted(predicateInputs));
    }
    m.append(". TensorFlow's C++ gradient registry, which trains the rewritten model, has no "
        + "gradient for Switch/Merge, so the shaped body could not be trained. What to do: "
        + "export the model with the branch you serve fixed (e.g. trace the SavedModel with ");
    m.append(predicateInputs.isEmpty() ? "the predicate" : quoted(predicateInputs));
    m.append(" as a Python constant, so that tf.cond folds away), then rewrite that model");
    throw new UnsupportedConstructException(CONSTRUCT, found, m.toString());
  }

  private static String quoted(Set<String> names) {
    return String.join(", ", names.stream().map(s -> "'" + s + "'").toList());
  }

  /** The nodes {@code node} is computed from along data edges (control edges left out). */
  private static Set<String> dataAncestors(GraphView g, String node) {
    Set<String> seen = new HashSet<>();
    ArrayDeque<String> todo = new ArrayDeque<>(List.of(node));
    while (!todo.isEmpty()) {
      String n = todo.pop();
      if (!seen.add(n) || !g.contains(n)) {
        continue;
      }
      for (String in : g.get(n).getInputList()) {
        TensorName t = TensorName.parse(in);
        if (!t.isControl()) {
          todo.push(t.node());
        }
      }
    }
    return seen;
  }

  /** The predicate tensor of a Switch (input 1) or If/Case (input 0), else null. */
  private static TensorName predicate(NodeDef n) {
    String op = n.getOp();
    if ((op.endsWith("Switch")) && n.getInputCount() >= 2) {
      return TensorName.parse(n.getInput(1));
    }
    if ((op.endsWith("If") || op.endsWith("Case")) && n.getInputCount() >= 1) {
      return TensorName.parse(n.getInput(0));
    }
    return null;
  }
}
