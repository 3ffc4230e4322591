package dev.dks.rewriter.safety;

import java.util.List;

/**
 * A graph holds ops of {@link OpPolicy} (file or stream I/O) that dks neither writes nor runs
 * unless they are allowed (untrusted models, issue 17). Thrown by every entry point that runs or
 * writes a graph, before anything runs or is written ({@link OpGate}); the message names the
 * model, each node as {@code [function/]node (Op, region)} and the {@code --allow-ops} value (in
 * Java: the {@code allowedOps} parameter of the same entry point) that would accept them.
 */
public final class UnsafeOpsException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The refused nodes, each {@code [function/]node (Op, region)}. */
  private final List<String> nodes;
  /** Their op types, each once, in order. */
  private final List<String> ops;

  /** A refusal of {@code nodes} (with their {@code ops}) in the model or graph {@code where}. */
  public UnsafeOpsException(String where, List<String> nodes, List<String> ops) {
    super(where + " holds ops with effects outside the tensors (file or stream I/O), which dks"
        + " neither writes nor runs: " + String.join(", ", nodes) + ". Run 'dks scan' for"
        + " details; if you trust this model, pass --allow-ops " + String.join(",", ops)
        + " (Java API: the allowedOps argument)");
    this.nodes = List.copyOf(nodes);
    this.ops = List.copyOf(ops);
  }

  /** The refused nodes, each {@code [function/]node (Op, region)}. */
  public List<String> nodes() {
    return nodes;
  }

  /** The op types to allow to accept this model, each once. */
  public List<String> ops() {
    return ops;
  }
}
