package dev.dks.rewriter.passes.norm;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.NodeDef;

/**
 * A consumer index kept up to date edit by edit while a pass rewrites the graph. {@link
 * GraphView} rebuilds its own index from scratch after every change, which makes a pass that
 * alternates edits and consumer queries quadratic in the graph size; every edit of the rewrite
 * phase goes through this class instead.
 */
final class ConsumerIndex {
  private final GraphView g;
  private final Map<String, Set<String>> users = new HashMap<>();

  ConsumerIndex(GraphView g) {
    this.g = g;
    for (NodeDef n : g.nodes()) {
      link(n);
    }
  }

  GraphView graph() {
    return g;
  }

  /** Names of the nodes that read any output of {@code node}, by data or control edge. */
  List<String> consumers(String node) {
    Set<String> s = users.get(node);
    return s == null ? List.of() : List.copyOf(s);
  }

  /** Adds or replaces a node. */
  void put(NodeDef n) {
    g.find(n.getName()).ifPresent(this::unlink);
    g.put(n);
    link(n);
  }

  /** Adds a new node (fails when the name is taken). */
  void add(NodeDef n) {
    g.add(n);
    link(n);
  }

  /** Removes a node. */
  void remove(String name) {
    unlink(g.get(name));
    g.remove(name);
  }

  private void link(NodeDef n) {
    for (String in : n.getInputList()) {
      users.computeIfAbsent(TensorName.parse(in).node(), k -> new LinkedHashSet<>())
          .add(n.getName());
    }
  }

  private void unlink(NodeDef n) {
    for (String in : n.getInputList()) {
      Set<String> s = users.get(TensorName.parse(in).node());
      if (s != null) {
        s.remove(n.getName());
      }
    }
  }
}
