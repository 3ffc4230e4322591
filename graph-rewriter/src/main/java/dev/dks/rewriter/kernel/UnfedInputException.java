package dev.dks.rewriter.kernel;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorShapeProto;

/**
 * The kernel check feeds its input pairs at one tensor, but a measured tensor also depends on
 * another {@code Placeholder} (a second model input, a label or keep-prob placeholder) that has
 * no default, so TensorFlow could not run the check. Names every such placeholder with its dtype
 * and shape, and says what to do. {@code PlaceholderWithDefault} needs no feed and is not one.
 */
public final class UnfedInputException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  /** The placeholders, by node name, in the order found. */
  private final List<String> placeholders;

  private UnfedInputException(String feedNode, List<NodeDef> open) {
    super("the kernel check feeds its input pairs at '" + feedNode + "' only, but the measured "
        + "layers also read " + open.stream().map(UnfedInputException::describe)
            .collect(Collectors.joining(", "))
        + ", which it has no value for; verify checks networks with one input: export the "
        + "model with that input as a constant or a tf.placeholder_with_default (its inference "
        + "value), or check a model without it");
    this.placeholders = open.stream().map(NodeDef::getName).toList();
  }

  /** The placeholder names the check cannot feed. */
  public List<String> placeholders() {
    return placeholders;
  }

  /**
   * Throws when a tensor of {@code measured} depends, by data edges not through {@code
   * feedNode}, on a Placeholder other than {@code feedNode}.
   */
  static void check(GraphView g, String feedNode, Collection<String> measured) {
    Set<String> seen = new HashSet<>();
    Deque<String> todo = new ArrayDeque<>();
    measured.forEach(t -> todo.push(TensorName.parse(t).node()));
    List<NodeDef> open = new ArrayList<>();
    while (!todo.isEmpty()) {
      String n = todo.pop();
      if (n.equals(feedNode) || !seen.add(n) || !g.contains(n)) {
        continue;
      }
      NodeDef node = g.get(n);
      if (node.getOp().equals("Placeholder")) {
        open.add(node);
      }
      for (String in : node.getInputList()) {
        if (!in.startsWith("^")) {
          todo.push(TensorName.parse(in).node());
        }
      }
    }
    if (!open.isEmpty()) {
      throw new UnfedInputException(feedNode, open);
    }
  }

  private static String describe(NodeDef p) {
    String type = p.containsAttr("dtype")
        ? p.getAttrOrThrow("dtype").getType().name().replace("DT_", "").toLowerCase() : "?";
    String shape = "unknown shape";
    if (p.containsAttr("shape")) {
      TensorShapeProto s = p.getAttrOrThrow("shape").getShape();
      shape = s.getUnknownRank() ? "unknown shape" : s.getDimList().stream()
          .map(d -> d.getSize() < 0 ? "?" : Long.toString(d.getSize()))
          .collect(Collectors.joining(",", "[", "]"));
    }
    return "placeholder '" + p.getName() + "' (" + type + " " + shape + ")";
  }
}
