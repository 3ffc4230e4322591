package dev.dks.rewriter.graph;

/**
 * A reference to a tensor or a control dependency in GraphDef input syntax: {@code "node"} (output
 * 0), {@code "node:k"} (output k) or {@code "^node"} (control edge, index -1).
 *
 * @param node the producing node's name
 * @param index the output index, -1 for a control edge
 */
public record TensorName(String node, int index) {

  /** Parses GraphDef input syntax. */
  public static TensorName parse(String input) {
    if (input.startsWith("^")) {
      return new TensorName(input.substring(1), -1);
    }
    int colon = input.lastIndexOf(':');
    if (colon > 0) {
      String tail = input.substring(colon + 1);
      if (!tail.isEmpty() && tail.chars().allMatch(Character::isDigit)) {
        return new TensorName(input.substring(0, colon), Integer.parseInt(tail));
      }
    }
    return new TensorName(input, 0);
  }

  /** Output {@code index} of {@code node}. */
  public static TensorName of(String node, int index) {
    return new TensorName(node, index);
  }

  /** Output 0 of {@code node}. */
  public static TensorName of(String node) {
    return new TensorName(node, 0);
  }

  /** True for a control edge. */
  public boolean isControl() {
    return index < 0;
  }

  /** GraphDef input syntax: {@code node}, {@code node:k} or {@code ^node}. */
  @Override
  public String toString() {
    if (index < 0) {
      return "^" + node;
    }
    return index == 0 ? node : node + ":" + index;
  }
}
