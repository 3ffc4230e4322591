package dev.dks.rewriter.builder;

import dev.dks.rewriter.graph.TensorName;
import dev.dks.solver.network.Structure;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Records, while the builder emits a graph, the dks-solver {@link Structure} of what it emitted
 * (dks-math.md section 3): dense/conv layers are affine, activations are nonlinear layers,
 * residual merges are normalized sums, everything else (bias, inference BN, pooling, reshape) is
 * not modelled.
 *
 * <p>Each tracked tensor carries its structure relative to the current <i>anchor</i> (the input
 * of the current residual block); {@link #anchor} commits the path to the anchor into the trunk so
 * that a merge never copies the network before the block (which would make evaluation exponential
 * in the number of blocks). Residual branches registered with {@link #candidate} become extra
 * candidates of the subnetwork maximum, as in the reference's {@code max(network, one residual
 * branch)}.
 */
final class StructureRecorder {
  private final List<Structure> trunk = new ArrayList<>();
  private final Map<TensorName, List<Structure>> relative = new HashMap<>();
  private final Set<Structure> candidates = new LinkedHashSet<>();

  StructureRecorder(TensorName input) {
    relative.put(input, List.of());
  }

  /** {@code out} is {@code in} through something the kernel analysis ignores. */
  void same(TensorName in, TensorName out) {
    relative.put(out, path(in));
  }

  /** {@code out} is {@code in} through a dense or conv layer (affine, no activation). */
  void affine(TensorName in, TensorName out) {
    relative.put(out, append(path(in), Structure.affine()));
  }

  /** {@code out} is the activation of {@code in}: one nonlinear layer. */
  void layer(TensorName in, TensorName out) {
    relative.put(out, append(path(in), Structure.layer()));
  }

  /** {@code out = sum_i weights[i] * branches[i]} (normalized: sum of squares 1). */
  void sum(double[] weights, TensorName out, TensorName... branches) {
    Structure[] parts = new Structure[branches.length];
    for (int i = 0; i < branches.length; i++) {
      parts[i] = Structure.series(path(branches[i]));
    }
    relative.put(out, List.of(Structure.normalizedSum(weights, parts)));
  }

  /** Registers the path from the anchor to {@code branch} as a subnetwork candidate. */
  void candidate(TensorName branch) {
    candidates.add(Structure.series(path(branch)));
  }

  /** Makes {@code t} the new anchor: the path to it joins the trunk; other tensors are dropped. */
  void anchor(TensorName t) {
    trunk.addAll(path(t));
    relative.clear();
    relative.put(t, List.of());
  }

  /** The structure from the input to {@code output}, maximized over the candidates if any. */
  Structure finish(TensorName output) {
    List<Structure> all = new ArrayList<>(trunk);
    all.addAll(path(output));
    Structure whole = Structure.series(all);
    if (candidates.isEmpty()) {
      return whole;
    }
    List<Structure> options = new ArrayList<>();
    options.add(whole);
    options.addAll(candidates);
    return Structure.max(options.toArray(Structure[]::new));
  }

  private List<Structure> path(TensorName t) {
    List<Structure> p = relative.get(t);
    if (p == null) {
      throw new IllegalStateException("builder bug: tensor " + t + " is not derived from the "
          + "current block input");
    }
    return p;
  }

  private static List<Structure> append(List<Structure> p, Structure s) {
    List<Structure> out = new ArrayList<>(p.size() + 1);
    out.addAll(p);
    out.add(s);
    return List.copyOf(out);
  }
}
