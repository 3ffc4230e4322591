package dev.dks.rewriter.graph;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.tensorflow.proto.FunctionDefLibrary;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.VersionDef;

/**
 * A mutable view of a TensorFlow {@link GraphDef}: nodes by name in insertion order, with a
 * consumer index updated on every edit (so passes that alternate edits and queries stay linear). Passes edit the graph through it and convert back with {@link
 * #toGraphDef()}; the function library and versions are carried along unchanged unless set.
 *
 * <p>Not thread-safe. Node order is kept (new nodes go last); TensorFlow does not require
 * topological order in a GraphDef.
 */
public final class GraphView {
  private final LinkedHashMap<String, NodeDef> nodes = new LinkedHashMap<>();
  /** For each node, the nodes reading it (data or control), kept up to date on every edit. */
  private final Map<String, java.util.LinkedHashSet<String>> consumerIndex = new HashMap<>();
  private FunctionDefLibrary library;
  private VersionDef versions;
  private long modifications;

  private GraphView() {}

  /** A view holding a copy of {@code graph}'s nodes. */
  public static GraphView of(GraphDef graph) {
    GraphView v = new GraphView();
    for (NodeDef n : graph.getNodeList()) {
      if (v.nodes.putIfAbsent(n.getName(), n) != null) {
        throw new IllegalArgumentException("the GraphDef has two nodes named '" + n.getName()
            + "': it is not a valid graph");
      }
      v.index(n);
    }
    v.library = graph.getLibrary();
    v.versions = graph.getVersions();
    return v;
  }

  /** An empty view. */
  public static GraphView empty() {
    return of(GraphDef.getDefaultInstance());
  }

  /** The graph as a GraphDef (nodes in view order, library and versions kept). */
  public GraphDef toGraphDef() {
    return GraphDef.newBuilder().addAllNode(nodes.values()).setLibrary(library)
        .setVersions(versions).build();
  }

  /** The function library. */
  public FunctionDefLibrary library() {
    return library;
  }

  /** Replaces the function library. */
  public void setLibrary(FunctionDefLibrary lib) {
    this.library = lib;
    modifications++;
  }

  /**
   * A counter bumped by every edit (add, put, remove, prune, library change): equal counts mean
   * an unchanged graph, so verifiers can skip work.
   */
  public long modificationCount() {
    return modifications;
  }

  /** Number of nodes. */
  public int size() {
    return nodes.size();
  }

  /** True when a node has this name. */
  public boolean contains(String name) {
    return nodes.containsKey(name);
  }

  /** The node with this name. */
  public NodeDef get(String name) {
    NodeDef n = nodes.get(name);
    if (n == null) {
      throw new NoSuchNodeException(name);
    }
    return n;
  }

  /** The node with this name, if any. */
  public Optional<NodeDef> find(String name) {
    return Optional.ofNullable(nodes.get(name));
  }

  /**
   * The tensor {@code t} reads through Identity nodes: while the node of the tensor is an {@code
   * Identity}, its input, at most {@code maxHops} times. Returns {@code t} itself when its node
   * is absent or not an Identity; after {@code maxHops} hops the tensor reached, even if it is an
   * Identity's (callers then see an Identity, not what they look for). TF.js, Grappler and Keras
   * leave such chains in front of constants and outputs.
   */
  public TensorName throughIdentities(TensorName t, int maxHops) {
    return throughIdentities(t, maxHops, false);
  }

  /**
   * {@link #throughIdentities(TensorName, int)}, and with {@code identityN} also through {@code
   * IdentityN} nodes (output i reads data input i; the function inliner leaves one with a call's
   * name, so a Keras model's served output is one). Each node passed counts as one hop.
   */
  public TensorName throughIdentities(TensorName t, int maxHops, boolean identityN) {
    TensorName at = t;
    for (int hops = 0; hops < maxHops; hops++) {
      NodeDef n = nodes.get(at.node());
      if (n == null) {
        break;
      }
      if (n.getOp().equals("Identity")) {
        at = TensorName.parse(n.getInput(0));
      } else if (identityN && n.getOp().equals("IdentityN") && at.index() < n.getInputCount()
          && !n.getInput(at.index()).startsWith("^")) {
        at = TensorName.parse(n.getInput(at.index()));
      } else {
        break;
      }
    }
    return at;
  }

  /** A snapshot of the nodes in view order. */
  public List<NodeDef> nodes() {
    return new ArrayList<>(nodes.values());
  }

  /** Adds a node; fails if the name is taken. */
  public void add(NodeDef node) {
    if (nodes.containsKey(node.getName())) {
      throw new IllegalArgumentException("a node named '" + node.getName() + "' already exists");
    }
    nodes.put(node.getName(), node);
    index(node);
    modifications++;
  }

  /** Adds or replaces (same name, same position) a node. */
  public void put(NodeDef node) {
    NodeDef old = nodes.put(node.getName(), node);
    if (old != null) {
      unindex(old);
    }
    index(node);
    modifications++;
  }

  /** Removes a node (its consumers must have been rewired first, or the verifier fails). */
  public void remove(String name) {
    NodeDef old = nodes.remove(name);
    if (old == null) {
      throw new NoSuchNodeException(name);
    }
    unindex(old);
    modifications++;
  }

  /** Names of the nodes that read any output of {@code name}, by data or control edge. */
  public List<String> consumers(String name) {
    java.util.LinkedHashSet<String> c = consumerIndex.get(name);
    return c == null ? List.of() : List.copyOf(c);
  }

  private void index(NodeDef n) {
    for (String in : n.getInputList()) {
      consumerIndex.computeIfAbsent(TensorName.parse(in).node(),
          k -> new java.util.LinkedHashSet<>()).add(n.getName());
    }
  }

  private void unindex(NodeDef n) {
    for (String in : n.getInputList()) {
      java.util.LinkedHashSet<String> c = consumerIndex.get(TensorName.parse(in).node());
      if (c != null) {
        c.remove(n.getName());
      }
    }
  }

  /** Names of the nodes that read output {@code t} by a data edge. */
  public List<String> dataConsumers(TensorName t) {
    List<String> out = new ArrayList<>();
    for (String c : consumers(t.node())) {
      for (String in : get(c).getInputList()) {
        if (TensorName.parse(in).equals(t)) {
          out.add(c);
          break;
        }
      }
    }
    return out;
  }

  /**
   * Makes every data edge that reads {@code from} read {@code to} instead (in all nodes except
   * those named in {@code except}); control edges are left alone.
   */
  public void replaceUses(TensorName from, TensorName to, Collection<String> except) {
    for (String c : consumers(from.node())) {
      if (except.contains(c)) {
        continue;
      }
      NodeDef n = get(c);
      NodeDef.Builder b = n.toBuilder();
      boolean changed = false;
      for (int i = 0; i < b.getInputCount(); i++) {
        String in = b.getInput(i);
        if (!in.startsWith("^") && TensorName.parse(in).equals(from)) {
          b.setInput(i, to.toString());
          changed = true;
        }
      }
      if (changed) {
        put(b.build());
      }
    }
  }

  /**
   * Bypasses and removes a node whose output 0 equals its input {@code keepInput} (e.g. an
   * Identity, or a normalization being stripped): data uses of {@code name:0} read that input;
   * control uses of {@code name} move to the input's node; the node is removed. Fails when another
   * output of the node is still read.
   */
  public void bypass(String name, int keepInput) {
    NodeDef n = get(name);
    TensorName replacement = TensorName.parse(n.getInput(keepInput));
    for (String c : consumers(name)) {
      NodeDef cn = get(c);
      NodeDef.Builder b = cn.toBuilder();
      for (int i = 0; i < b.getInputCount(); i++) {
        TensorName t = TensorName.parse(b.getInput(i));
        if (!t.node().equals(name)) {
          continue;
        }
        if (t.isControl()) {
          b.setInput(i, "^" + replacement.node());
        } else if (t.index() == 0) {
          b.setInput(i, replacement.toString());
        } else {
          throw new IllegalStateException("cannot bypass node '" + name + "' (" + n.getOp()
              + "): its output " + t.index() + " is still read by '" + c + "'");
        }
      }
      put(dedupeControls(b.build()));
    }
    remove(name);
  }

  /** A name not used by any node, {@code base} or {@code base_1}, {@code base_2}, ... */
  public String uniqueName(String base) {
    if (!nodes.containsKey(base)) {
      return base;
    }
    for (int i = 1; ; i++) {
      String n = base + "_" + i;
      if (!nodes.containsKey(n)) {
        return n;
      }
    }
  }

  /**
   * The nodes from which some node in {@code roots} can be reached (data and control edges),
   * including the roots.
   */
  public Set<String> ancestors(Collection<String> roots) {
    Set<String> seen = new HashSet<>();
    Deque<String> todo = new ArrayDeque<>(roots);
    while (!todo.isEmpty()) {
      String n = todo.pop();
      if (!seen.add(n) || !nodes.containsKey(n)) {
        continue;
      }
      for (String in : nodes.get(n).getInputList()) {
        todo.push(TensorName.parse(in).node());
      }
    }
    return seen;
  }

  /** Removes every node that is not an ancestor of {@code roots}; returns how many. */
  public int prune(Collection<String> roots) {
    Set<String> keep = ancestors(roots);
    List<String> dead = new ArrayList<>();
    for (String n : nodes.keySet()) {
      if (!keep.contains(n)) {
        dead.add(n);
      }
    }
    for (String n : dead) {
      unindex(nodes.remove(n));
    }
    if (!dead.isEmpty()) {
      modifications++;
    }
    return dead.size();
  }

  private static NodeDef dedupeControls(NodeDef n) {
    Set<String> seen = new HashSet<>();
    NodeDef.Builder b = n.toBuilder().clearInput();
    for (String in : n.getInputList()) {
      if (!in.startsWith("^") || seen.add(in)) {
        b.addInput(in);
      }
    }
    return b.build();
  }
}
