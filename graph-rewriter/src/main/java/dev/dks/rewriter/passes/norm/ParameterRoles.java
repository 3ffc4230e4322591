package dev.dks.rewriter.passes.norm;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.passes.norm.MomentsFinder.Moments;
import dev.dks.rewriter.passes.norm.NormalizationMatch.AffineStep;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.NodeDef;

/**
 * Names the parameters of a written-out normalization (best effort, for reports): gamma is a
 * Const / variable that multiplies the Rsqrt's value on the scaling path, or a later Mul step;
 * mean is subtracted from x, or multiplied by the scale on the shift path; beta is added after
 * scaling, or is the minuend of {@code beta - mean * scale}.
 */
final class ParameterRoles {
  private static final Set<String> MULTIPLICATIVE = Set.of("Mul", "RealDiv");

  private final GraphView g;

  ParameterRoles(GraphView g) {
    this.g = g;
  }

  /**
   * The parameter tensors by role.
   *
   * @param anchor the Rsqrt / Sqrt node
   * @param variance the variance tensor
   * @param mo the moments, null for stored statistics
   * @param chain the affine steps from x to the output
   * @param nStep the step that applies the anchor's scale
   * @param covered the normalization's nodes
   * @param leaves the Const / variable reads it uses
   */
  Map<String, TensorName> roles(String anchor, TensorName variance, Moments mo,
      List<AffineStep> chain, AffineStep nStep, Set<String> covered, Set<String> leaves) {
    Map<String, TensorName> params = new LinkedHashMap<>();
    String r = anchor;
    Set<String> mulCoef = new HashSet<>();
    Set<String> addCoef = new HashSet<>();
    boolean afterN = false;
    TensorName gamma = null;
    TensorName beta = null;
    TensorName mean = mo != null && mo.mean() != null ? TensorName.of(mo.mean()) : null;
    for (AffineStep s : chain) {
      boolean isN = s == nStep;
      boolean leaf = leaves.contains(s.coefficient().node());
      if (MULTIPLICATIVE.contains(s.op())) {
        ancestorsWithin(s.coefficient(), covered, mulCoef);
        if (!isN && leaf && gamma == null) {
          gamma = s.coefficient();
        }
      } else {
        ancestorsWithin(s.coefficient(), covered, addCoef);
        if (s.op().equals("Sub") && !afterN && !s.coefficientFirst() && mean == null) {
          mean = s.coefficient();
        } else if (afterN && leaf && !s.op().equals("Sub") && beta == null) {
          beta = s.coefficient();
        }
      }
      afterN |= isN;
    }
    for (String n : covered) {
      NodeDef nd = g.get(n);
      List<TensorName> ins = GraphEdits.dataInputs(nd);
      if (ins.size() != 2) {
        continue;
      }
      for (int i = 0; i < 2; i++) {
        TensorName p = ins.get(i);
        TensorName other = ins.get(1 - i);
        if (!leaves.contains(p.node())) {
          continue;
        }
        boolean otherHasR = dependsOn(other, r, covered);
        String op = nd.getOp();
        if (op.equals("Mul") && otherHasR) {
          if (mulCoef.contains(n) && gamma == null) {
            gamma = p;
          } else if (!mulCoef.contains(n) && addCoef.contains(n) && mean == null) {
            mean = p;
          }
        } else if (addCoef.contains(n) && !mulCoef.contains(n) && beta == null && otherHasR
            && (op.equals("Sub") && i == 0 || op.equals("Add") || op.equals("AddV2"))) {
          beta = p;
        }
      }
    }
    put(params, "gamma", gamma);
    put(params, "beta", beta);
    put(params, "mean", mean);
    params.put("variance", variance);
    return params;
  }

  private static void put(Map<String, TensorName> m, String k, TensorName v) {
    if (v != null) {
      m.put(k, v);
    }
  }

  private void ancestorsWithin(TensorName t, Set<String> covered, Set<String> out) {
    Deque<String> todo = new ArrayDeque<>(List.of(t.node()));
    while (!todo.isEmpty()) {
      String n = todo.pop();
      if (!covered.contains(n) || !out.add(n)) {
        continue;
      }
      for (TensorName in : GraphEdits.dataInputs(g.get(n))) {
        todo.push(in.node());
      }
    }
  }

  private boolean dependsOn(TensorName t, String target, Set<String> covered) {
    Set<String> anc = new HashSet<>();
    ancestorsWithin(t, covered, anc);
    return anc.contains(target) || t.node().equals(target);
  }
}
