package dev.dks.rewriter.pipeline;

import dev.dks.rewriter.graph.CheckingGraphs;
import dev.dks.rewriter.graph.GraphView;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;

/**
 * Checks that TensorFlow itself accepts the graph: it imports into a fresh {@link Graph} (valid
 * ops, attributes and edges, shape inference runs; large weight constants are imported as
 * same-shape stand-ins, see {@link CheckingGraphs}), every output shape that was fully known at the
 * previous stage is still the same (for nodes that kept their op), and the float variables that
 * feed the outputs' bodies get gradients ({@code Graph.addGradients} of the body tensors each head
 * reads, i.e. every op on the way has a registered C++ gradient).
 *
 * <p>"The previous stage" is this verifier's previous run on the context: in a {@link Pipeline}
 * that may be several passes back ({@link #deferrable()}).
 */
public final class TensorFlowVerifier implements GraphVerifier {
  private final boolean checkGradients;

  /** A verifier; {@code checkGradients} adds the (slower) gradient-reachability check. */
  public TensorFlowVerifier(boolean checkGradients) {
    this.checkGradients = checkGradients;
  }

  /**
   * Tells the verifier that the outputs of these nodes (and of nodes reading them) change shape
   * on purpose in the current pass, e.g. a kernel widened by one input channel.
   */
  public static void allowShapeChange(RewriteContext context, java.util.Collection<String> nodes) {
    context.fact(KnownShapes.class).ifPresent(k -> {
      Map<String, Shape> kept = new HashMap<>(k.shapes());
      java.util.Set<String> changed = new java.util.HashSet<>(nodes);
      for (String n : nodes) {
        changed.addAll(context.graph().consumers(n));
      }
      kept.keySet().removeIf(key -> changed.contains(key.substring(0, key.lastIndexOf(':'))));
      context.putFact(KnownShapes.class, new KnownShapes(kept, k.ops()));
    });
  }

  /**
   * True: an import of the whole graph is the cost of a rewrite between passes (about 75 ms of
   * CPU on a 2500-node graph), so a pipeline runs this check once for the passes between two
   * structure analyses; the shapes it infers are the ones the next analysis reads ({@link
   * Analyses}). The final gradient check is a final verifier and always runs.
   */
  @Override
  public boolean deferrable() {
    return true;
  }

  /** Shapes recorded at the previous stage, by {@code node:index}, and op types by node. */
  record KnownShapes(Map<String, Shape> shapes, Map<String, String> ops) {}

  @Override
  public void verify(RewriteContext context, String stage) {
    GraphView view = context.graph();
    try (Graph g = new Graph()) {
      try {
        CheckingGraphs.importForChecks(g, view.toGraphDef());
      } catch (RuntimeException e) {
        throw new GraphVerificationException(stage + ": TensorFlow rejects the graph: "
            + e.getMessage(), e);
      }
      Map<String, Shape> now = new HashMap<>();
      Map<String, String> ops = new HashMap<>();
      // output-0 shapes as the structure analysis reads them (StructureAnalyzer.shapes)
      Map<String, long[]> firstOutputs = new HashMap<>();
      for (NodeDef n : view.nodes()) {
        ops.put(n.getName(), n.getOp());
        GraphOperation op = g.operation(n.getName());
        if (op == null) {
          continue;
        }
        for (int i = 0; i < op.numOutputs(); i++) {
          Shape s = op.output(i).shape();
          now.put(n.getName() + ":" + i, s);
          if (i == 0 && !s.isUnknown()) {
            firstOutputs.put(n.getName(), s.asArray());
          }
        }
      }
      Analyses.recordShapes(context, firstOutputs);
      context.fact(KnownShapes.class).ifPresent(before -> compareShapes(before, now, ops,
          stage, view));
      context.putFact(KnownShapes.class, new KnownShapes(now, ops));
      if (checkGradients) {
        checkGradients(g, context, stage);
      }
    }
  }

  /** Compares fully known shapes of nodes that kept their op (a changed op may change shape). */
  private static void compareShapes(KnownShapes before, Map<String, Shape> now,
      Map<String, String> ops, String stage, GraphView view) {
    for (Map.Entry<String, Shape> e : before.shapes().entrySet()) {
      Shape was = e.getValue();
      Shape is = now.get(e.getKey());
      if (is == null || was.isUnknown() || was.hasUnknownDimension()) {
        continue;
      }
      String node = e.getKey().substring(0, e.getKey().lastIndexOf(':'));
      if (!java.util.Objects.equals(before.ops().get(node), ops.get(node))) {
        continue;
      }
      if (!was.equals(is)) {
        throw new GraphVerificationException(stage + ": the shape of '" + e.getKey() + "' ("
            + view.get(node).getOp() + ") changed from " + was + " to " + is);
      }
    }
  }

  /**
   * Every output's float variables get gradients. One {@code addGradients} call over all outputs
   * (the gradient of their sum) builds the backward pass of the shared body once instead of once
   * per output; it fails exactly when a per-output call fails, provided every variable an output
   * depends on is reached from it through data edges (TensorFlow's "unreachable" error), which is
   * checked here first. When that does not hold, or the joint call fails, the outputs are checked
   * one by one, so that the error names the output as before.
   */
  private static void checkGradients(Graph g, RewriteContext context, String stage) {
    GraphView view = context.graph();
    java.util.Map<String, List<dev.dks.rewriter.graph.TensorName>> bodyOutputs = bodyOutputs(context);
    List<Output<?>> ys = new ArrayList<>();
    java.util.LinkedHashSet<String> allVars = new java.util.LinkedHashSet<>();
    boolean jointIsExact = true;
    for (String out : context.outputs()) {
      for (dev.dks.rewriter.graph.TensorName y : targets(view, bodyOutputs, out)) {
        List<String> vars = floatVariables(view, view.ancestors(List.of(y.node())));
        Output<?> t = g.operation(y.node()).output(y.index());
        if (vars.isEmpty() || t.dataType() != DataType.DT_FLOAT) {
          continue;
        }
        ys.add(t);
        allVars.addAll(vars);
        if (jointIsExact && !dataAncestors(view, y.node()).containsAll(vars)) {
          jointIsExact = false;
        }
      }
    }
    if (ys.isEmpty()) {
      return;
    }
    if (jointIsExact) {
      Output<?>[] xs = allVars.stream().map(v -> g.operation(v).output(0))
          .toArray(Output<?>[]::new);
      try {
        g.addGradients(null, ys.toArray(new Output<?>[0]), xs, null);
        return;
      } catch (RuntimeException e) {
        // checked output by output below, for the error naming the output
      }
    }
    checkGradientsOneByOne(g, context, stage, bodyOutputs);
  }

  /** The tensors differentiated for {@code out}: the body tensors its head reads, else its own. */
  private static List<dev.dks.rewriter.graph.TensorName> targets(GraphView view,
      java.util.Map<String, List<dev.dks.rewriter.graph.TensorName>> bodyOutputs, String out) {
    List<dev.dks.rewriter.graph.TensorName> body = bodyOutputs.get(out);
    return body != null && !body.isEmpty() ? body : differentiable(view, out);
  }

  private static void checkGradientsOneByOne(Graph g, RewriteContext context, String stage,
      java.util.Map<String, List<dev.dks.rewriter.graph.TensorName>> bodyOutputs) {
    GraphView view = context.graph();
    for (String out : context.outputs()) {
      for (dev.dks.rewriter.graph.TensorName y : targets(view, bodyOutputs, out)) {
        List<Operand<?>> vars = new ArrayList<>();
        for (String v : floatVariables(view, view.ancestors(List.of(y.node())))) {
          vars.add(g.operation(v).output(0));
        }
        Output<?> t = g.operation(y.node()).output(y.index());
        if (vars.isEmpty() || t.dataType() != DataType.DT_FLOAT) {
          continue;
        }
        try {
          g.addGradients(t, vars.toArray(new Output<?>[0]));
        } catch (RuntimeException e) {
          throw new GraphVerificationException(stage + ": the variables feeding '" + y
              + "' do not all get gradients: " + e.getMessage(), e);
        }
      }
    }
  }

  /** The float32 VariableV2 nodes among {@code names}, in their order. */
  private static List<String> floatVariables(GraphView view, java.util.Set<String> names) {
    List<String> vars = new ArrayList<>();
    for (String v : names) {
      NodeDef n = view.find(v).orElse(null);
      if (n != null && n.getOp().equals("VariableV2")
          && n.getAttrOrThrow("dtype").getType() == DataType.DT_FLOAT) {
        vars.add(v);
      }
    }
    return vars;
  }

  /** The nodes {@code root} depends on through data edges only, {@code root} included. */
  private static java.util.Set<String> dataAncestors(GraphView view, String root) {
    java.util.Set<String> seen = new java.util.HashSet<>();
    java.util.ArrayDeque<String> todo = new java.util.ArrayDeque<>(List.of(root));
    while (!todo.isEmpty()) {
      String n = todo.pop();
      if (!seen.add(n) || !view.contains(n)) {
        continue;
      }
      for (String in : view.get(n).getInputList()) {
        if (!in.startsWith("^")) {
          todo.push(dev.dks.rewriter.graph.TensorName.parse(in).node());
        }
      }
    }
    return seen;
  }

  /**
   * Per output, the body tensors its head reads ({@link
   * dev.dks.rewriter.analysis.NetworkAnalysis#bodyOutputs()}): the trainable part ends there and
   * the head (decoding, loops, ops TF has no gradient for) is not differentiated. Empty when the
   * graph has no known inputs or the analysis refuses it (the outputs are differentiated then).
   */
  private static java.util.Map<String, List<dev.dks.rewriter.graph.TensorName>> bodyOutputs(
      RewriteContext context) {
    if (context.inputs().isEmpty()) {
      return java.util.Map.of();
    }
    try {
      return Analyses.of(context).bodyOutputs();
    } catch (RuntimeException e) {
      return java.util.Map.of();
    }
  }

  /**
   * The tensors to differentiate for an output node: its output 0, or, for an IdentityN (which
   * TF has no gradient for; the inliner leaves one where a function call was), the tensors it
   * forwards.
   */
  private static List<dev.dks.rewriter.graph.TensorName> differentiable(GraphView g, String out) {
    NodeDef n = g.get(out);
    List<dev.dks.rewriter.graph.TensorName> ys = new ArrayList<>();
    if (n.getOp().equals("IdentityN")) {
      for (String in : n.getInputList()) {
        dev.dks.rewriter.graph.TensorName t = dev.dks.rewriter.graph.TensorName.parse(in);
        if (!t.isControl()) {
          ys.add(t);
        }
      }
    } else {
      ys.add(dev.dks.rewriter.graph.TensorName.of(out));
    }
    return ys;
  }
}
