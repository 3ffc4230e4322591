package dev.dks.solver.network;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A structure given as a directed acyclic graph, for networks read from real graphs where
 * branches fork and join arbitrarily: nodes in topological order, each the input, a nonlinear
 * layer, an affine (identity) op, a weighted average of earlier nodes (normalized sums with
 * squared weights, concatenations with width fractions), or an elementwise product of earlier
 * nodes (gates: {@link KernelSemantics#product}). The last node is the output. Build with {@link
 * Builder}.
 *
 * @param nodes the nodes, topologically ordered; node 0 is the input
 */
public record Dag(List<Node> nodes) implements Structure {

  /** What a DAG node does to the propagated quantity. */
  public enum Kind {
    /** The network input. */
    INPUT,
    /** Affine layer + activation. */
    LAYER,
    /** Identity for the kernel (affine without activation, pooling, reshape, ...). */
    AFFINE,
    /** Weighted average of its inputs. */
    AVERAGE,
    /**
     * Elementwise product of its inputs (2 or more streams computed from the input, e.g. a
     * squeeze-and-excitation gate times the features): kernels multiply ({@link
     * KernelSemantics#product}).
     */
    PRODUCT
  }

  /**
   * One node.
   *
   * @param kind what it does
   * @param inputs indices of earlier nodes it reads
   * @param fractions for AVERAGE, one weight per input, summing to 1; empty for the other kinds
   * @param chain for a LAYER whose input is an earlier LAYER's output passed through linear ops
   *     that mix no channels (Delta depthwise convolutions): the LAYER nodes of that chain, first
   *     to last, this node last (2 or more); empty otherwise. Such a layer maps the value at its
   *     chain's start (the first layer's input) by {@link KernelSemantics#chain}, not its own
   *     input by {@link KernelSemantics#layer}: its pre-activation is not Gaussian
   */
  public record Node(Kind kind, int[] inputs, double[] fractions, int[] chain) {
    /** A node outside any chain. */
    public Node(Kind kind, int[] inputs, double[] fractions) {
      this(kind, inputs, fractions, new int[0]);
    }

    /** True when this node ends a chain of 2 or more layers. */
    public boolean endsChain() {
      return chain.length >= 2;
    }
  }

  /** Checks topological order and the fractions. */
  public Dag {
    nodes = List.copyOf(nodes);
    if (nodes.isEmpty() || nodes.get(0).kind() != Kind.INPUT) {
      throw new IllegalArgumentException("a DAG structure starts with its input node");
    }
    for (int i = 0; i < nodes.size(); i++) {
      Node n = nodes.get(i);
      for (int in : n.inputs()) {
        if (in < 0 || in >= i) {
          throw new IllegalArgumentException("DAG node " + i + " reads node " + in
              + ": nodes must be in topological order");
        }
      }
      if (n.kind() == Kind.AVERAGE) {
        double sum = Arrays.stream(n.fractions()).sum();
        if (n.fractions().length != n.inputs().length || Math.abs(sum - 1) > 1e-9) {
          throw new IllegalArgumentException("DAG node " + i + ": average fractions "
              + Arrays.toString(n.fractions()) + " must have one entry per input and sum to 1");
        }
      } else if (n.kind() == Kind.PRODUCT) {
        if (n.inputs().length < 2) {
          throw new IllegalArgumentException("DAG node " + i + " (PRODUCT) must read 2 or more "
              + "nodes, got " + n.inputs().length);
        }
      } else if (n.kind() != Kind.INPUT && n.inputs().length != 1) {
        throw new IllegalArgumentException("DAG node " + i + " (" + n.kind()
            + ") must read exactly one node");
      }
      checkChain(nodes, i);
    }
  }

  private static void checkChain(List<Node> nodes, int i) {
    int[] chain = nodes.get(i).chain();
    if (chain.length == 0) {
      return;
    }
    boolean ok = nodes.get(i).kind() == Kind.LAYER && chain.length >= 2
        && chain[chain.length - 1] == i;
    for (int j = 0; ok && j < chain.length; j++) {
      ok = chain[j] >= 0 && chain[j] <= i && nodes.get(chain[j]).kind() == Kind.LAYER
          && (j == 0 || chain[j] > chain[j - 1]);
    }
    if (!ok) {
      throw new IllegalArgumentException("DAG node " + i + ": chain " + Arrays.toString(chain)
          + " must list 2 or more LAYER nodes in increasing order ending at the node itself");
    }
  }

  /**
   * This DAG with the given LAYER nodes marked as ending depthwise chains ({@link Node#chain}).
   *
   * @param chains per LAYER node index, its chain (first to last, the node last)
   */
  public Dag withChains(java.util.Map<Integer, int[]> chains) {
    List<Node> out = new ArrayList<>(nodes.size());
    for (int i = 0; i < nodes.size(); i++) {
      Node n = nodes.get(i);
      int[] c = chains.get(i);
      out.add(c == null ? n : new Node(n.kind(), n.inputs(), n.fractions(), c.clone()));
    }
    return new Dag(out);
  }

  /** True when some node is a {@link Kind#PRODUCT}. */
  public boolean hasProducts() {
    return nodes.stream().anyMatch(n -> n.kind() == Kind.PRODUCT);
  }

  /** True when some node ends a chain. */
  public boolean hasChains() {
    return nodes.stream().anyMatch(Node::endsChain);
  }

  /** The node whose value a chain-ending node maps: its chain's first layer's input. */
  public int chainStart(int node) {
    return nodes.get(nodes.get(node).chain()[0]).inputs()[0];
  }

  /** A new builder; its first node (index 0) is the input. */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public <T> T propagate(T input, KernelSemantics<T> semantics) {
    List<T> values = new ArrayList<>(nodes.size());
    for (Node n : nodes) {
      T v = switch (n.kind()) {
        case INPUT -> input;
        case LAYER -> n.endsChain()
            ? semantics.chain(values.get(nodes.get(n.chain()[0]).inputs()[0]), n.chain().length)
            : semantics.layer(values.get(n.inputs()[0]));
        case AFFINE -> values.get(n.inputs()[0]);
        case AVERAGE -> {
          List<T> ins = new ArrayList<>();
          for (int i : n.inputs()) {
            ins.add(values.get(i));
          }
          yield semantics.weightedAverage(n.fractions(), ins);
        }
        case PRODUCT -> {
          List<T> ins = new ArrayList<>();
          for (int i : n.inputs()) {
            ins.add(values.get(i));
          }
          yield semantics.product(ins);
        }
      };
      values.add(v);
    }
    return values.get(values.size() - 1);
  }

  @Override
  public int depth() {
    int[] d = new int[nodes.size()];
    for (int i = 1; i < nodes.size(); i++) {
      Node n = nodes.get(i);
      int m = 0;
      for (int in : n.inputs()) {
        m = Math.max(m, d[in]);
      }
      d[i] = m + (n.kind() == Kind.LAYER ? 1 : 0);
    }
    return d[d.length - 1];
  }

  /** Builds a DAG node by node; every method returns the new node's index. */
  public static final class Builder {
    private final List<Node> nodes = new ArrayList<>();

    private Builder() {
      nodes.add(new Node(Kind.INPUT, new int[0], new double[0]));
    }

    /** Index of the input node (0). */
    public int input() {
      return 0;
    }

    /** A nonlinear layer reading {@code from}. */
    public int layer(int from) {
      return add(new Node(Kind.LAYER, new int[] {from}, new double[0]));
    }

    /** An affine (identity) op reading {@code from}. */
    public int affine(int from) {
      return add(new Node(Kind.AFFINE, new int[] {from}, new double[0]));
    }

    /** A normalized sum: fractions are the squared weights. */
    public int normalizedSum(double[] weights, int... from) {
      double[] f = new double[weights.length];
      for (int i = 0; i < f.length; i++) {
        f[i] = weights[i] * weights[i];
      }
      return add(new Node(Kind.AVERAGE, from.clone(), f));
    }

    /** A concatenation with the given widths. */
    public int concat(long[] widths, int... from) {
      double total = Arrays.stream(widths).sum();
      double[] f = new double[widths.length];
      for (int i = 0; i < f.length; i++) {
        f[i] = widths[i] / total;
      }
      return add(new Node(Kind.AVERAGE, from.clone(), f));
    }

    /**
     * An elementwise product of the streams {@code from} (2 or more; a gate broadcast over
     * locations counts as a stream of its own): their kernels multiply.
     */
    public int product(int... from) {
      return add(new Node(Kind.PRODUCT, from.clone(), new double[0]));
    }

    /** Number of nodes so far. */
    public int size() {
      return nodes.size();
    }

    /** The DAG (its last node is the output). */
    public Dag build() {
      return new Dag(nodes);
    }

    private int add(Node n) {
      nodes.add(n);
      return nodes.size() - 1;
    }
  }
}
