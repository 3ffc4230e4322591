package dev.dks.rewriter.graph;

/** A node name that the graph does not hold. */
public final class NoSuchNodeException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  /** Names the missing node. */
  public NoSuchNodeException(String name) {
    super("the graph has no node named '" + name + "'");
  }
}
