package dev.dks.rewriter.graph;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.tensorflow.Graph;
import org.tensorflow.TensorFlow;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;
import org.tensorflow.proto.OpList;
import org.tensorflow.proto.VersionDef;

/**
 * The op definitions registered in the loaded TensorFlow runtime ({@code
 * TensorFlow.registeredOpList()}, 1788 ops in TF 2.18), indexed by name: whether an op exists, how
 * many outputs a node has, and the default values of attributes a GraphDef may omit.
 */
public final class OpRegistry {
  private static volatile OpRegistry instance;
  private static volatile VersionDef runtimeVersions;

  private final Map<String, OpDef> ops;

  private OpRegistry(OpList list) {
    Map<String, OpDef> m = new HashMap<>();
    for (OpDef d : list.getOpList()) {
      m.put(d.getName(), d);
    }
    this.ops = m;
  }

  /** The registry of the loaded runtime (loads the native library on first use). */
  public static OpRegistry get() {
    OpRegistry r = instance;
    if (r == null) {
      synchronized (OpRegistry.class) {
        if (instance == null) {
          instance = new OpRegistry(TensorFlow.registeredOpList());
        }
        r = instance;
      }
    }
    return r;
  }

  /**
   * The GraphDef versions the loaded runtime writes (an empty TF Graph's), cached: what a graph
   * built by hand declares.
   */
  public static VersionDef runtimeVersions() {
    VersionDef v = runtimeVersions;
    if (v == null) {
      try (Graph g = new Graph()) {
        v = g.toGraphDef().getVersions();
      }
      runtimeVersions = v;
    }
    return v;
  }

  /** The definition of {@code op}, if registered. */
  public Optional<OpDef> find(String op) {
    return Optional.ofNullable(ops.get(op));
  }

  /** True when {@code op} is registered. */
  public boolean contains(String op) {
    return ops.containsKey(op);
  }

  /**
   * Number of outputs of {@code node}, or -1 when it cannot be told from the node alone (unknown
   * op, or a list length that depends on a missing attribute).
   */
  public int outputCount(NodeDef node) {
    OpDef d = ops.get(node.getOp());
    if (d == null) {
      return -1;
    }
    int count = 0;
    for (OpDef.ArgDef arg : d.getOutputArgList()) {
      if (!arg.getNumberAttr().isEmpty()) {
        AttrValue v = attrOrDefault(node, d, arg.getNumberAttr());
        if (v == null) {
          return -1;
        }
        count += (int) v.getI();
      } else if (!arg.getTypeListAttr().isEmpty()) {
        AttrValue v = attrOrDefault(node, d, arg.getTypeListAttr());
        if (v == null) {
          return -1;
        }
        count += v.getList().getTypeCount();
      } else {
        count += 1;
      }
    }
    return count;
  }

  /** {@code node} with every attribute it omits set to the registry's default. */
  public NodeDef withDefaults(NodeDef node) {
    OpDef d = ops.get(node.getOp());
    if (d == null) {
      return node;
    }
    NodeDef.Builder b = null;
    for (OpDef.AttrDef a : d.getAttrList()) {
      if (!node.containsAttr(a.getName()) && a.hasDefaultValue()) {
        if (b == null) {
          b = node.toBuilder();
        }
        b.putAttr(a.getName(), a.getDefaultValue());
      }
    }
    return b == null ? node : b.build();
  }

  private static AttrValue attrOrDefault(NodeDef node, OpDef d, String attr) {
    if (node.containsAttr(attr)) {
      return node.getAttrOrThrow(attr);
    }
    for (OpDef.AttrDef a : d.getAttrList()) {
      if (a.getName().equals(attr) && a.hasDefaultValue()) {
        return a.getDefaultValue();
      }
    }
    return null;
  }
}
