package dev.dks.savedmodels.shaping;

import dev.dks.rewriter.analysis.ActivationSite;
import dev.dks.rewriter.analysis.NetworkAnalysis;
import dev.dks.rewriter.analysis.StructureAnalyzer;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.model.Model;
import dev.dks.solver.solve.DksTargets;
import dev.dks.solver.solve.Method;
import dev.dks.solver.solve.ShapedActivation;
import dev.dks.solver.solve.ShapingSolution;
import dev.dks.solver.solve.TatTargets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.NodeDef;

/**
 * Builds the {@link ShapingMetadata} of a model that was just shaped: the settings the caller
 * shaped it with, the solution's parameters, and the activation sites and structure depth that
 * {@link StructureAnalyzer} derives from the shaped graph itself (first input of the first
 * signature to the signature outputs), so the record names the sites {@code verify} will find.
 */
public final class ShapingRecorder {
  private ShapingRecorder() {}

  /**
   * The shaping of {@code model}.
   *
   * @param model the shaped model, as it will be written
   * @param shapedBy the command that shaped it ({@code build}, {@code rewrite})
   * @param tool the tool and version, e.g. {@code "dks 0.1.0"}
   * @param method the method
   * @param dks the DKS targets (recorded when the method is DKS)
   * @param tat the TAT targets (recorded when the method is TAT)
   * @param solution the solve, or null when the network has no activation to shape
   * @param shortcutWeight the shortcut weight of normalized skips, null where not applicable
   * @param pln the per-location input normalization mode's name, null for none
   */
  public static ShapingMetadata record(Model model, String shapedBy, String tool, Method method,
      DksTargets dks, TatTargets tat, ShapingSolution solution, Double shortcutWeight,
      String pln) {
    return record(model, shapedBy, tool, method, dks, tat, solution, shortcutWeight, pln,
        Map.of());
  }

  /**
   * {@link #record(Model, String, String, Method, DksTargets, TatTargets, ShapingSolution,
   * Double, String)}, with activation sites the shaper wrote that the analysis takes as
   * activations only where declared (Sin, Cos: node name to kind, {@link #oneOpSites}); they are
   * recorded with the others, so that {@code verify} finds them again through the record.
   */
  public static ShapingMetadata record(Model model, String shapedBy, String tool, Method method,
      DksTargets dks, TatTargets tat, ShapingSolution solution, Double shortcutWeight,
      String pln, Map<String, String> declaredSites) {
    List<ShapingMetadata.ShapedEntry> acts = new ArrayList<>();
    if (solution != null) {
      for (ShapedActivation a : solution.activations().values()) {
        acts.add(new ShapingMetadata.ShapedEntry(a.base().id(), a.params().asMap(),
            a.network().cSlope1(), a.network().cCurvature1(), a.network().c0(),
            a.chainMatchedTarget()));
      }
    }
    List<ShapingMetadata.Site> sites = new ArrayList<>();
    int depth = 0;
    NetworkAnalysis a = analyze(model, declaredSites);
    if (a != null) {
      depth = a.dag().depth();
      for (ActivationSite s : a.activations()) {
        sites.add(new ShapingMetadata.Site(s.output(), s.kind(), s.kind()));
      }
    }
    return new ShapingMetadata(ShapingMetadata.VERSION, tool, shapedBy, method,
        ShapingMetadata.targetsOf(method, dks, tat),
        solution == null ? Double.NaN : solution.localTarget(), shortcutWeight, pln, depth,
        acts, sites, 0);
  }

  /** Every node of {@code model} whose op {@code kindByOp} names, node name to that kind. */
  public static Map<String, String> oneOpSites(Model model, Map<String, String> kindByOp) {
    Map<String, String> m = new LinkedHashMap<>();
    for (NodeDef n : model.graph().getNodeList()) {
      String kind = kindByOp.get(n.getOp());
      if (kind != null) {
        m.put(n.getName(), kind);
      }
    }
    return m;
  }

  /** The structure analysis of {@code model}, or null when it has no input or cannot be followed. */
  private static NetworkAnalysis analyze(Model model, Map<String, String> declaredSites) {
    if (model.signatures().isEmpty() || model.signatures().get(0).inputs().isEmpty()) {
      return null;
    }
    String input = model.signatures().get(0).inputs().values().iterator().next().tensor().node();
    try {
      return StructureAnalyzer.analyze(GraphView.of(model.graph()), List.of(input),
          model.outputNodes(), null, declaredSites);
    } catch (RuntimeException e) {
      return null; // the record then has no sites; verify analyses the graph itself anyway
    }
  }
}
