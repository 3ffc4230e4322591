package dev.dks.rewriter.passes.dks;

import dev.dks.rewriter.activation.ActivationEmitter;
import dev.dks.rewriter.analysis.ActivationSite;
import dev.dks.rewriter.analysis.NetworkAnalysis;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.pipeline.Analyses;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.RewriteContext;
import dev.dks.rewriter.pipeline.RewritePass;
import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.network.NetworkMaps;
import dev.dks.solver.solve.DksTargets;
import dev.dks.solver.solve.Method;
import dev.dks.solver.solve.ShapedActivation;
import dev.dks.solver.solve.ShapingSolution;
import dev.dks.solver.solve.ShapingSolver;
import dev.dks.solver.solve.TatTargets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;

/**
 * "shape-activations": analyses the (already normalization- and skip-rewritten) graph, maps each
 * activation kind through the {@link ActivationPolicy}, solves DKS or TAT for the network
 * structure the analysis derived, and replaces every activation site by its shaped form emitted as
 * standard ops. The {@link ShapingSolution} is stored as a context fact for reports and the kernel
 * check.
 */
public final class ShapeActivationsPass implements RewritePass {
  private final Method method;
  private final ActivationPolicy policy;
  private final DksTargets dks;
  private final TatTargets tat;

  /** A pass for the method, policy and targets. */
  public ShapeActivationsPass(
      Method method, ActivationPolicy policy, DksTargets dks, TatTargets tat) {
    this.method = method;
    this.policy = policy;
    this.dks = dks;
    this.tat = tat;
  }

  @Override
  public String name() {
    return "shape-activations";
  }

  @Override
  public String description() {
    return "replace every activation by its " + method + " transform, solved for the analysed "
        + "network structure";
  }

  @Override
  public PassOutcome run(RewriteContext ctx) {
    GraphView g = ctx.graph();
    if (ctx.inputs().isEmpty()) {
      return PassOutcome.unchanged(name(), "no input nodes are known (no signature inputs)");
    }
    NetworkAnalysis a = Analyses.of(ctx);
    if (a.activations().isEmpty()) {
      return PassOutcome.unchanged(name(), "no activation on the path from the inputs to the "
          + "outputs");
    }
    Set<String> kinds = new LinkedHashSet<>();
    a.activations().forEach(s -> kinds.add(s.kind()));
    ActivationPolicy policy = this.policy.forBody(kinds);
    List<String> notes = new ArrayList<>();
    if (policy != this.policy) {
      notes.add(mixedNote(a, kinds));
    }
    Set<String> targets = new LinkedHashSet<>();
    for (ActivationSite s : a.activations()) {
      targets.add(policy.target(s.kind()));
    }
    List<Activation> acts = targets.stream().map(Activations::byName).toList();
    ShapingSolution solution = ShapingSolver.solve(method, acts, NetworkMaps.of(a.structure()),
        dks, tat);
    ctx.putFact(ShapingSolution.class, solution);
    notes.addAll(a.warnings());
    notes.add(method + " per-layer target " + solution.localTarget() + " for "
        + a.dag().depth() + " nonlinear layers in series");
    for (ShapedActivation sa : solution.activations().values()) {
      notes.add(sa.base().id() + ": " + sa.params().asMap() + ", network C'(1) = "
          + sa.network().cSlope1() + (Double.isFinite(sa.chainMatchedTarget())
              ? ", per-layer target " + sa.chainMatchedTarget() + " under the depthwise chains"
              : ""));
      sa.warnings().forEach(w -> notes.add(sa.base().id() + ": " + w));
    }
    int changed = 0;
    // an activation that reads another (Elu of Elu once a norm between them is stripped) reads
    // the earlier one's replacement
    Map<TensorName, TensorName> replaced = new HashMap<>();
    for (ActivationSite s : a.activations()) {
      ShapedActivation sa = solution.get(policy.target(s.kind()));
      DataType dtype = g.get(s.output()).containsAttr("T")
          ? g.get(s.output()).getAttrOrThrow("T").getType() : DataType.DT_FLOAT;
      TensorName in = replaced.getOrDefault(s.input(), s.input());
      TensorName out = ActivationEmitter.emit(g, s.output() + "_dks", in, sa.base(),
          sa.params(), dtype);
      g.replaceUses(TensorName.of(s.output()), out, List.of());
      replaced.put(TensorName.of(s.output()), out);
      removeUnused(g, s.nodes());
      changed++;
    }
    notes.add(changed + " activation sites shaped");
    return new PassOutcome(name(), changed, notes);
  }

  /** The note for a TAT body mixing the ReLU family with smooth activations, with examples. */
  private String mixedNote(NetworkAnalysis a, Set<String> kinds) {
    String relu = null;
    String smooth = null;
    for (ActivationSite s : a.activations()) {
      boolean r = policy.target(s.kind()).equals("leaky_relu");
      if (r && relu == null) {
        relu = "'" + s.output() + "' (" + s.kind() + ")";
      } else if (!r && smooth == null) {
        smooth = "'" + s.output() + "' (" + s.kind() + ")";
      }
    }
    return "TAT: the body mixes the ReLU family (e.g. " + relu + ") with smooth activations (e.g. "
        + smooth + "); TReLU's C(0) target cannot be shared with them, so the ReLU family becomes"
        + " softplus and every activation takes TAT's smooth form (target tau); --activation "
        + "NAME chooses another";
  }

  /** Removes the site's old nodes that nothing outside the site reads any more. */
  static void removeUnused(GraphView g, List<String> nodes) {
    boolean progress = true;
    Set<String> left = new LinkedHashSet<>(nodes);
    while (progress) {
      progress = false;
      for (String n : List.copyOf(left)) {
        if (g.contains(n) && g.consumers(n).isEmpty()) {
          g.remove(n);
          left.remove(n);
          progress = true;
        }
      }
    }
  }

  /** The dtype attribute of a node, DT_FLOAT when absent. */
  static DataType dtypeOf(NodeDef n) {
    return n.containsAttr("T") ? n.getAttrOrThrow("T").getType() : DataType.DT_FLOAT;
  }
}
