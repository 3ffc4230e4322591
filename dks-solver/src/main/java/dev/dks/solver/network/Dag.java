package dev.dks.solver.network;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A structure given as a directed acyclic graph, for networks read from real graphs where
 * branches fork and join arbitrarily: nodes in topological order, each the input, a nonlinear
 * layer, an affine (identity) op, or a weighted average of earlier nodes (normalized sums with
 * squared weights, concatenations with width fractions). The last node is the output. Build with
 * {@link Builder}.
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
    AVERAGE
  }

  /**
   * One node.
   *
   * @param kind what it does
   * @param inputs indices of earlier nodes it reads
   * @param fractions for AVERAGE, one weight per input, summing to 1
   */
  public record Node(Kind kind, int[] inputs, double[] fractions) {}

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
      } else if (n.kind() != Kind.INPUT && n.inputs().length != 1) {
        throw new IllegalArgumentException("DAG node " + i + " (" + n.kind()
            + ") must read exactly one node");
      }
    }
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
        case LAYER -> semantics.layer(values.get(n.inputs()[0]));
        case AFFINE -> values.get(n.inputs()[0]);
        case AVERAGE -> {
          List<T> ins = new ArrayList<>();
          for (int i : n.inputs()) {
            ins.add(values.get(i));
          }
          yield semantics.weightedAverage(n.fractions(), ins);
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
