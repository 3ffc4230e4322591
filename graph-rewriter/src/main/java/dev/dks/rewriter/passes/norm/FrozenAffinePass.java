package dev.dks.rewriter.passes.norm;

import dev.dks.rewriter.analysis.ActivationMatcher;
import dev.dks.rewriter.analysis.ActivationSite;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.RewriteContext;
import dev.dks.rewriter.pipeline.RewritePass;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * "frozen-bn": removes batch norms that a converter froze into a per-channel {@code Mul} by a
 * constant vector, optionally followed by an {@code Add}/{@code AddV2}/{@code BiasAdd} of a
 * constant vector ({@code y = a * x + b}, no statistics left to recognise them by), when x is a
 * layer's output (Conv2D, DepthwiseConv2dNative, MatMul, or its bias add: faceres-deep's 13
 * depthwise convolutions) or an activation's output (BN after the activation: gear), and a layer
 * follows (body). Like the batch norms {@code strip-norm} removes, they are bypassed: the
 * consumers read x.
 *
 * <p>Why: a per-channel scale is a reparametrization of the layer (W diag(a)); once dks-init
 * redraws the kernel, a surviving {@code a} multiplies each channel's q by a_c^2 and the shift adds
 * b_c^2 (faceres-deep: q 97 after its first depthwise layer, 1,300 at its last, predicted 1).
 * Removing the pair is the same as folding it into the layer and re-initializing it. A scalar
 * factor (hard-swish's 1/6, a normalized sum's weight, GELU's 0.5) is never matched, nor a Mul
 * whose other operand is computed from the input, nor a scale after a residual merge (a learned
 * layer scale, or a norm of the sum: folding it into "the layer" would rescale the shortcut too).
 */
public final class FrozenAffinePass implements RewritePass {
  /** The pass name. */
  public static final String NAME = "frozen-bn";

  private static final Set<String> LAYER_OPS = Set.of("Conv2D", "DepthwiseConv2dNative",
      "MatMul");
  private static final Set<String> BIAS_OPS = Set.of("BiasAdd", "Add", "AddV2");

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "remove per-channel constant Mul (+ Add) after a layer or activation: batch norms a "
        + "converter froze into constants";
  }

  @Override
  public PassOutcome run(RewriteContext ctx) {
    GraphView g = ctx.graph();
    Set<String> activations = new HashSet<>();
    for (ActivationSite s : ActivationMatcher.find(g)) {
      activations.add(s.output());
    }
    Set<String> outputs = new HashSet<>(ctx.outputs());
    List<String> notes = new ArrayList<>();
    int changed = 0;
    for (NodeDef mul : List.copyOf(g.nodes())) {
      if (!g.contains(mul.getName()) || !mul.getOp().equals("Mul")) {
        continue;
      }
      List<TensorName> in = GraphEdits.dataInputs(mul);
      if (in.size() != 2) {
        continue;
      }
      int x = -1;
      long channels = 0;
      for (int i = 0; i < 2; i++) {
        long c = channelVector(ctx, in.get(i));
        if (c > 1 && producesBodyTensor(g, in.get(1 - i), activations)) {
          x = 1 - i;
          channels = c;
        }
      }
      if (x < 0 || outputs.contains(mul.getName()) || !layerFollows(g, mul.getName())) {
        continue;
      }
      List<String> removed = new ArrayList<>(List.of(mul.getName()));
      String last = mul.getName();
      List<String> readers = g.dataConsumers(TensorName.of(mul.getName()));
      if (readers.size() == 1 && BIAS_OPS.contains(g.get(readers.get(0)).getOp())
          && !outputs.contains(readers.get(0))) {
        NodeDef add = g.get(readers.get(0));
        List<TensorName> ain = GraphEdits.dataInputs(add);
        if (ain.size() == 2) {
          TensorName other = ain.get(0).node().equals(mul.getName()) ? ain.get(1) : ain.get(0);
          if (channelVector(ctx, other) == channels) {
            removed.add(add.getName());
            last = add.getName();
          }
        }
      }
      TensorName source = in.get(x);
      GraphEdits.rewire(g, TensorName.of(last), source, new HashSet<>(removed));
      GraphEdits.removeAndPrune(ctx, removed);
      notes.add("removed the frozen batch norm " + removed + " on '" + source + "' ("
          + channels + " channels)");
      changed++;
    }
    if (changed == 0) {
      notes.add("no per-channel constant Mul after a layer or activation");
    }
    return new PassOutcome(NAME, changed, notes);
  }

  /**
   * The element count of {@code t} when it is a float32 constant (Const or variable, through
   * reads) of shape [C] or [1, ..., 1, C], else 0.
   */
  private static long channelVector(RewriteContext ctx, TensorName t) {
    ValueSource v = ValueSource.resolve(ctx.graph(), t);
    if (v == null || v.kind() == ValueSource.Kind.RESOURCE) {
      return 0;
    }
    TensorProto value = v.value(ctx.graph(), ctx.variables());
    if (value == null || value.getDtype() != DataType.DT_FLOAT) {
      return 0;
    }
    long[] shape = TensorProtos.shape(value);
    if (shape.length == 0) {
      return 0;
    }
    for (int i = 0; i < shape.length - 1; i++) {
      if (shape[i] != 1) {
        return 0;
      }
    }
    return shape[shape.length - 1];
  }

  /**
   * True when t is output 0 of a layer, of a layer's bias add (the layer plus a constant, not a
   * residual merge), or of an activation site.
   */
  private static boolean producesBodyTensor(GraphView g, TensorName t, Set<String> activations) {
    if (t.isControl() || t.index() != 0 || !g.contains(t.node())) {
      return false;
    }
    NodeDef n = g.get(t.node());
    if (LAYER_OPS.contains(n.getOp()) || activations.contains(n.getName())) {
      return true;
    }
    // a bias add: a layer's output plus a constant (Const or variable); an add of two computed
    // tensors is a merge (a residual sum), and a scale after it is not a norm of one layer
    List<TensorName> in = GraphEdits.dataInputs(n);
    if (BIAS_OPS.contains(n.getOp()) && in.size() == 2) {
      for (int i = 0; i < 2; i++) {
        TensorName layer = in.get(i);
        if (g.contains(layer.node()) && LAYER_OPS.contains(g.get(layer.node()).getOp())
            && ValueSource.resolve(g, in.get(1 - i)) != null) {
          return true;
        }
      }
    }
    return false;
  }

  /** True when a layer reads, through data edges, what {@code node} computes (body, not head). */
  private static boolean layerFollows(GraphView g, String node) {
    Deque<String> todo = new ArrayDeque<>(List.of(node));
    Set<String> seen = new HashSet<>();
    while (!todo.isEmpty()) {
      String n = todo.pop();
      if (!seen.add(n)) {
        continue;
      }
      for (String c : g.consumers(n)) {
        NodeDef cn = g.get(c);
        boolean data = cn.getInputList().stream().anyMatch(i -> !i.startsWith("^")
            && TensorName.parse(i).node().equals(n));
        if (!data) {
          continue;
        }
        if (LAYER_OPS.contains(cn.getOp())) {
          return true;
        }
        todo.push(c);
      }
    }
    return false;
  }
}
