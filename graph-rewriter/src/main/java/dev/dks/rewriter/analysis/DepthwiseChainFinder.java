package dev.dks.rewriter.analysis;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.solver.maps.SignAveragedMaps;
import dev.dks.solver.network.Dag;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.NodeDef;

/**
 * Finds the depthwise chains of a kernel DAG ({@link Dag.Node#chain}): activation layers whose
 * pre-activation is an earlier activation layer's output passed through depthwise convolutions
 * only (channel multiplier 1, with biases, pads and identities), the pattern {@code act ->
 * DepthwiseConv2dNative -> act} of MobileNets, DS-CNNs and BlazeFace-like nets. A
 * Delta-initialized depthwise kernel (what the rewrite writes) multiplies each channel by a
 * Haar-random sign and mixes nothing, so the second activation's input is not Gaussian: the
 * solver ({@code TatSolver}, {@code DksSolver}) and the kernel check both map such a layer by the
 * chain's own map, started from the c at the chain's first layer's input. The analysis marks the
 * chains on the one DAG both read.
 *
 * <p>Chains longer than {@value SignAveragedMaps#MAX_CHAIN} layers keep their last {@value
 * SignAveragedMaps#MAX_CHAIN} (the earlier ones are taken as Gaussian, an approximation).
 */
final class DepthwiseChainFinder {
  /**
   * Ops a chain passes through between the depthwise convolutions and the activations: biases,
   * pads, identities, and the shaped activations' own scales and shifts by constants (the
   * rewrite writes {@code gamma * (phi(alpha x + beta) + delta)} as Mul/Add nodes around phi,
   * and the chain's maps use the whole shaped function).
   */
  private static final Set<String> PASS_THROUGH =
      Set.of("Identity", "BiasAdd", "Add", "AddV2", "Mul", "Pad", "PadV2");

  private DepthwiseChainFinder() {}

  /**
   * The chain ending at every LAYER node of {@code dag} that has one (2 or more layers).
   *
   * @param dagIndex the DAG node of every graph node on the path
   * @param layerActivations the activation site of every LAYER node, by DAG index
   * @param layerSites the affine layers of the graph
   */
  static Map<Integer, int[]> find(GraphView g, Dag dag, Map<String, Integer> dagIndex,
      Map<Integer, ActivationSite> layerActivations, List<LayerSite> layerSites) {
    Map<String, LayerSite> layers = new HashMap<>();
    for (LayerSite l : layerSites) {
      layers.put(l.node(), l);
    }
    Map<Integer, List<Integer>> chains = new HashMap<>();
    Map<Integer, int[]> out = new HashMap<>();
    for (int i = 0; i < dag.nodes().size(); i++) {
      ActivationSite site = layerActivations.get(i);
      if (site == null || dag.nodes().get(i).kind() != Dag.Kind.LAYER) {
        continue;
      }
      Optional<Integer> from = previousLayer(g, dag, dagIndex, layers, site.input().node());
      List<Integer> chain = new ArrayList<>();
      if (from.isPresent() && chains.containsKey(from.get())) {
        chain.addAll(chains.get(from.get()));
      } else if (from.isPresent()) {
        chain.add(from.get());
      }
      chain.add(i);
      while (chain.size() > SignAveragedMaps.MAX_CHAIN) {
        chain.remove(0);
      }
      chains.put(i, chain);
      if (chain.size() >= 2) {
        out.put(i, chain.stream().mapToInt(Integer::intValue).toArray());
      }
    }
    return out;
  }

  /**
   * The LAYER node whose output reaches {@code node} through depthwise convolutions (at least one)
   * and pass-through ops only.
   */
  private static Optional<Integer> previousLayer(GraphView g, Dag dag,
      Map<String, Integer> dagIndex, Map<String, LayerSite> layers, String node) {
    boolean depthwise = false;
    String cur = node;
    for (int steps = 0; steps < 64; steps++) {
      Integer idx = dagIndex.get(cur);
      if (idx == null) {
        return Optional.empty();
      }
      if (dag.nodes().get(idx).kind() == Dag.Kind.LAYER) {
        return depthwise ? Optional.of(idx) : Optional.empty();
      }
      NodeDef n = g.get(cur);
      if (n.getOp().equals("DepthwiseConv2dNative")) {
        if (!multiplierOne(g, layers.get(cur))) {
          return Optional.empty();
        }
        depthwise = true;
      } else if (!PASS_THROUGH.contains(n.getOp())) {
        return Optional.empty();
      }
      String next = null;
      for (String in : n.getInputList()) {
        TensorName t = TensorName.parse(in);
        if (!t.isControl() && dagIndex.containsKey(t.node())) {
          if (next != null && !next.equals(t.node())) {
            return Optional.empty(); // two path operands: a merge, not a pass-through
          }
          next = t.node();
        }
      }
      if (next == null) {
        return Optional.empty();
      }
      cur = next;
    }
    return Optional.empty();
  }

  /** True when the depthwise kernel's static shape [H, W, C, M] has M = 1. */
  private static boolean multiplierOne(GraphView g, LayerSite layer) {
    if (layer == null || layer.kernelVariable().isEmpty()
        || !g.contains(layer.kernelVariable())) {
      return false;
    }
    NodeDef k = g.get(layer.kernelVariable());
    AttrValue shape = k.getAttrOrDefault("shape", null);
    if (shape != null && shape.hasShape() && shape.getShape().getDimCount() == 4) {
      return shape.getShape().getDim(3).getSize() == 1;
    }
    AttrValue value = k.getAttrOrDefault("value", null);
    if (value != null && value.hasTensor()
        && value.getTensor().getTensorShape().getDimCount() == 4) {
      return value.getTensor().getTensorShape().getDim(3).getSize() == 1;
    }
    return false;
  }
}
