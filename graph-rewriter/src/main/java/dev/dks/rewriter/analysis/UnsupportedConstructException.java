package dev.dks.rewriter.analysis;

import java.util.List;

/**
 * A typed refusal: the graph holds a construct the rewrite has no policy for where it sits (a
 * control-flow loop before a layer, a {@code tf.cond} in the body). The message names the
 * construct, the nodes and what the user can do; {@link #construct()} and {@link #nodes()} give
 * them to programs. An {@link IllegalArgumentException}, so the CLI reports it as bad input (exit
 * 2).
 */
public final class UnsupportedConstructException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final String construct;
  private final List<String> nodes;

  /**
   * @param construct a short name of the construct (e.g. {@code tf.cond in the body})
   * @param nodes the nodes that make it, the most telling first
   * @param message the whole message: construct, nodes, why, and what to do
   */
  public UnsupportedConstructException(String construct, List<String> nodes, String message) {
    super(message);
    this.construct = construct;
    this.nodes = List.copyOf(nodes);
  }

  /** The construct's short name. */
  public String construct() {
    return construct;
  }

  /** The nodes that make the construct. */
  public List<String> nodes() {
    return nodes;
  }
}
