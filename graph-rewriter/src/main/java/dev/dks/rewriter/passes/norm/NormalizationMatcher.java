package dev.dks.rewriter.passes.norm;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.OpRegistry;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.passes.norm.NormalizationMatch.AffineStep;
import dev.dks.rewriter.passes.norm.NormalizationMatch.Form;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.NodeDef;

/**
 * Finds the normalizations of a graph without changing it. It recognizes, in this order (a node
 * belongs to at most one match):
 *
 * <ol>
 *   <li>Keras' LayerNormalization written as {@code Reshape -> FusedBatchNormV3 (training form)
 *       -> Reshape [-> Mul gamma] [-> Add beta]};
 *   <li>{@code FusedBatchNorm}, {@code FusedBatchNormV2} and {@code FusedBatchNormV3}, in
 *       inference form ({@code is_training=false}: stored mean and variance) and in training form
 *       (batch statistics); only when no output but {@code y} (output 0) is read;
 *   <li>written-out forms anchored at an {@code Rsqrt} / {@code Sqrt} of {@code variance +
 *       epsilon}: BatchNorm from stored statistics in its usual variants ({@code x * (gamma *
 *       rsqrt(var + eps)) + (beta - mean * gamma * rsqrt(var + eps))}, {@code (x - mean) *
 *       rsqrt(var + eps) * gamma + beta}, operand orders swapped, Add or AddV2), and LayerNorm /
 *       training BatchNorm computed from moments ({@code Mean}, {@code SquaredDifference} or
 *       {@code Sub} + {@code Square}, {@code Mean}, {@code AddV2 eps}, {@code Rsqrt}, ...), also
 *       when the statistics pass through TF1 {@code tf.layers}' training switch (a {@code Select}
 *       by a bool flag between the batch moments and the moving statistics, {@link
 *       TrainingSwitch}); the moving-average updates that read them belong to the match.
 * </ol>
 *
 * Anything that looks like a normalization but does not fit (another output read, an internal
 * node shared with the rest of the graph, unknown ops in between) is reported in {@link
 * Result#notes()}, naming the node, and not matched. Attributes an op omits are read with the
 * registry's defaults (e.g. a FusedBatchNorm without {@code is_training} is in training form).
 */
public final class NormalizationMatcher {
  private static final Set<String> FUSED_BN =
      Set.of("FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3");

  private NormalizationMatcher() {}

  /**
   * What the matcher found.
   *
   * @param matches the normalizations, in graph order
   * @param notes what looked like a normalization but was left alone, and why
   */
  public record Result(List<NormalizationMatch> matches, List<String> notes) {
    /** Copies the lists. */
    public Result {
      matches = List.copyOf(matches);
      notes = List.copyOf(notes);
    }
  }

  /**
   * Lists the normalizations of {@code g} without rewriting anything (for the structure analysis
   * and for {@code dks inspect}).
   */
  public static List<NormalizationMatch> find(GraphView g) {
    return scan(g).matches();
  }

  /** Lists the normalizations of {@code g} and what was left alone; nothing is changed. */
  public static Result scan(GraphView g) {
    List<NormalizationMatch> matches = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    Set<String> claimed = new HashSet<>();
    WrittenOutMatcher written = new WrittenOutMatcher(g);
    List<NodeDef> bns = g.nodes().stream().filter(n -> FUSED_BN.contains(n.getOp())).toList();
    for (NodeDef bn : bns) {
      NormalizationMatch m = kerasLayerNorm(g, OpRegistry.get().withDefaults(bn), written);
      if (m != null) {
        matches.add(m);
        claimed.addAll(m.nodes());
      }
    }
    for (NodeDef raw : bns) {
      if (claimed.contains(raw.getName())) {
        continue;
      }
      try {
        NormalizationMatch m = fused(g, OpRegistry.get().withDefaults(raw));
        matches.add(m);
        claimed.addAll(m.nodes());
      } catch (Bail b) {
        notes.add("left " + raw.getOp() + " '" + raw.getName() + "' alone: " + b.getMessage());
      }
    }
    written.scan(claimed, matches, notes);
    return new Result(matches, notes);
  }

  private static NormalizationMatch fused(GraphView g, NodeDef bn) throws Bail {
    List<TensorName> ins = GraphEdits.dataInputs(bn);
    if (ins.size() != 5) {
      throw new Bail("it has " + ins.size() + " data inputs, expected 5");
    }
    String otherUse = otherOutputUse(g, bn.getName());
    if (otherUse != null) {
      throw new Bail(otherUse);
    }
    boolean training = attr(bn, "is_training").getB();
    Map<String, TensorName> params = new LinkedHashMap<>();
    params.put("gamma", ins.get(1));
    params.put("beta", ins.get(2));
    if (!training) {
      params.put("mean", ins.get(3));
      params.put("variance", ins.get(4));
    }
    return new NormalizationMatch(NormKind.BATCH_NORM, Form.FUSED_OP, training, bn.getName(),
        List.of(bn.getName()), ins.get(0), TensorName.of(bn.getName()), params,
        attr(bn, "epsilon").getF(), attr(bn, "data_format").getS().toStringUtf8(), List.of());
  }

  /** Keras' fused LayerNormalization: Reshape, training-form FusedBatchNorm, Reshape, Mul, Add. */
  private static NormalizationMatch kerasLayerNorm(GraphView g, NodeDef bn,
      WrittenOutMatcher params) {
    if (!attr(bn, "is_training").getB() || otherOutputUse(g, bn.getName()) != null) {
      return null;
    }
    List<TensorName> ins = GraphEdits.dataInputs(bn);
    if (ins.size() != 5 || ins.get(0).index() != 0) {
      return null;
    }
    NodeDef in = g.get(ins.get(0).node());
    if (!in.getOp().equals("Reshape") || g.consumers(in.getName()).size() != 1
        || !params.isParam(ins.get(1)) || !params.isParam(ins.get(2))) {
      return null;
    }
    List<String> users = g.consumers(bn.getName());
    if (users.size() != 1 || !g.get(users.get(0)).getOp().equals("Reshape")) {
      return null;
    }
    List<String> nodes = new ArrayList<>(List.of(in.getName(), bn.getName(), users.get(0)));
    Map<String, TensorName> roles = new LinkedHashMap<>();
    List<AffineStep> steps = new ArrayList<>();
    String tail = users.get(0);
    for (String op : List.of("Mul", "Add")) {
      List<String> next = g.consumers(tail);
      if (next.size() != 1) {
        break;
      }
      NodeDef n = g.get(next.get(0));
      boolean matchesOp = op.equals("Mul") ? n.getOp().equals("Mul")
          : n.getOp().equals("Add") || n.getOp().equals("AddV2");
      List<TensorName> nIns = GraphEdits.dataInputs(n);
      if (!matchesOp || nIns.size() != 2) {
        continue;
      }
      int self = nIns.get(0).equals(TensorName.of(tail)) ? 0
          : nIns.get(1).equals(TensorName.of(tail)) ? 1 : -1;
      if (self < 0 || !params.isParam(nIns.get(1 - self))) {
        continue;
      }
      roles.put(op.equals("Mul") ? "gamma" : "beta", nIns.get(1 - self));
      steps.add(new AffineStep(n.getName(), n.getOp(), nIns.get(1 - self), self == 1));
      nodes.add(n.getName());
      tail = n.getName();
    }
    return new NormalizationMatch(NormKind.LAYER_NORM, Form.RESHAPED_FUSED_OP, true,
        bn.getName(), nodes, GraphEdits.dataInputs(in).get(0), TensorName.of(tail), roles,
        attr(bn, "epsilon").getF(), attr(bn, "data_format").getS().toStringUtf8(), steps);
  }

  /** A message when an output other than y is read by a data edge, else null. */
  private static String otherOutputUse(GraphView g, String bn) {
    for (String c : g.consumers(bn)) {
      for (String in : g.get(c).getInputList()) {
        TensorName t = TensorName.parse(in);
        if (t.node().equals(bn) && t.index() > 0) {
          return "its output " + t.index() + " is read by " + g.get(c).getOp() + " '" + c
              + "' (only y, output 0, may be used)";
        }
      }
    }
    return null;
  }

  private static AttrValue attr(NodeDef n, String name) {
    return n.getAttrOrDefault(name, AttrValue.getDefaultInstance());
  }
}
