package dev.dks.rewriter.kernel;

import dev.dks.rewriter.analysis.ActivationSite;
import dev.dks.rewriter.analysis.LayerSite;
import dev.dks.rewriter.analysis.NetworkAnalysis;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.solver.activation.Activation;
import dev.dks.solver.maps.LocalMaps;
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
 * Activation layers whose pre-activation is an earlier activation layer's output passed through
 * depthwise convolutions only (channel multiplier 1, with biases, pads and identities): the
 * pattern {@code act -> DepthwiseConv2dNative -> act} of MobileNets and BlazeFace-like nets. A
 * Delta-initialized depthwise kernel (what the rewrite writes) multiplies each channel by a
 * Haar-random sign and mixes nothing, so the second activation's input is not Gaussian and its
 * kernel is predicted by the chain's {@link SignAveragedMaps}, started from the c at the chain's
 * first layer's input, instead of by composing the layers' own C maps.
 *
 * <p>Chains longer than {@value SignAveragedMaps#MAX_CHAIN} layers keep their last {@value
 * SignAveragedMaps#MAX_CHAIN} (the earlier ones are taken as Gaussian, an approximation).
 */
final class DepthwiseChains {
  /**
   * Ops a chain passes through between the depthwise convolutions and the activations: biases,
   * pads, identities, and the shaped activations' own scales and shifts by constants (the
   * rewrite writes {@code gamma * (phi(alpha x + beta) + delta)} as Mul/Add nodes around phi,
   * and the chain's maps use the whole shaped function).
   */
  private static final Set<String> PASS_THROUGH =
      Set.of("Identity", "BiasAdd", "Add", "AddV2", "Mul", "Pad", "PadV2");

  /**
   * The prediction of one chain.
   *
   * @param start the DAG node whose c the chain reads (its first layer's input)
   * @param maps the chain's sign-averaged maps
   * @param layers the chain's LAYER nodes, first to last
   */
  record Chain(int start, SignAveragedMaps maps, List<Integer> layers) {}

  private DepthwiseChains() {}

  /**
   * The chain ending at every LAYER node of {@code a}'s DAG that has one (2 or more layers).
   *
   * @param layerMaps the local maps of every LAYER node (the shaped activation's, as the check
   *     predicts with)
   */
  static Map<Integer, Chain> find(GraphView g, NetworkAnalysis a,
      Map<Integer, LocalMaps> layerMaps) {
    Dag dag = a.dag();
    Map<String, LayerSite> layers = new HashMap<>();
    for (LayerSite l : a.layers()) {
      layers.put(l.node(), l);
    }
    Map<Integer, List<Integer>> chains = new HashMap<>();
    // keyed by the chain's LocalMaps objects (List equality is their identity)
    Map<List<LocalMaps>, SignAveragedMaps> cache = new HashMap<>();
    Map<Integer, Chain> out = new HashMap<>();
    for (int i = 0; i < dag.nodes().size(); i++) {
      ActivationSite site = a.layerActivations().get(i);
      if (site == null || dag.nodes().get(i).kind() != Dag.Kind.LAYER) {
        continue;
      }
      Optional<Integer> from = previousLayer(g, a, layers, site.input().node());
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
      if (chain.size() < 2) {
        continue;
      }
      List<Activation> acts = new ArrayList<>();
      List<LocalMaps> key = new ArrayList<>();
      for (int l : chain) {
        LocalMaps m = layerMaps.get(l);
        acts.add(m.activation());
        key.add(m);
      }
      SignAveragedMaps maps = cache.computeIfAbsent(List.copyOf(key),
          k -> SignAveragedMaps.of(acts));
      out.put(i, new Chain(dag.nodes().get(chain.get(0)).inputs()[0], maps, List.copyOf(chain)));
    }
    return out;
  }

  /**
   * The LAYER node whose output reaches {@code node} through depthwise convolutions (at least one)
   * and pass-through ops only.
   */
  private static Optional<Integer> previousLayer(GraphView g, NetworkAnalysis a,
      Map<String, LayerSite> layers, String node) {
    boolean depthwise = false;
    String cur = node;
    for (int steps = 0; steps < 64; steps++) {
      Integer idx = a.dagIndex().get(cur);
      if (idx == null) {
        return Optional.empty();
      }
      if (a.dag().nodes().get(idx).kind() == Dag.Kind.LAYER) {
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
        if (!t.isControl() && a.dagIndex().containsKey(t.node())) {
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
