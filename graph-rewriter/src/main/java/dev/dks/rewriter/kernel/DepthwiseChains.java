package dev.dks.rewriter.kernel;

import dev.dks.rewriter.analysis.NetworkAnalysis;
import dev.dks.solver.activation.Activation;
import dev.dks.solver.maps.LocalMaps;
import dev.dks.solver.maps.SignAveragedMaps;
import dev.dks.solver.network.Dag;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The kernel check's maps of the depthwise chains the structure analysis marked on the DAG
 * ({@link Dag.Node#chain}, found by {@code DepthwiseChainFinder}): activation layers whose
 * pre-activation is an earlier activation layer's output passed through Delta depthwise
 * convolutions only. Such a layer is predicted by the chain's {@link SignAveragedMaps}, started
 * from the c at the chain's first layer's input, instead of by composing the layers' own C maps;
 * the rewrite's solve uses the same chains ({@code TatSolver}, {@code DksSolver}).
 */
final class DepthwiseChains {
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
  static Map<Integer, Chain> find(NetworkAnalysis a, Map<Integer, LocalMaps> layerMaps) {
    Dag dag = a.dag();
    // keyed by the chain's LocalMaps objects (List equality is their identity)
    Map<List<LocalMaps>, SignAveragedMaps> cache = new HashMap<>();
    Map<Integer, Chain> out = new HashMap<>();
    for (int i = 0; i < dag.nodes().size(); i++) {
      Dag.Node n = dag.nodes().get(i);
      if (!n.endsChain()) {
        continue;
      }
      List<Integer> chain = new ArrayList<>();
      List<Activation> acts = new ArrayList<>();
      List<LocalMaps> key = new ArrayList<>();
      for (int l : n.chain()) {
        LocalMaps m = layerMaps.get(l);
        chain.add(l);
        acts.add(m.activation());
        key.add(m);
      }
      SignAveragedMaps maps = cache.computeIfAbsent(List.copyOf(key),
          k -> SignAveragedMaps.of(acts));
      out.put(i, new Chain(dag.chainStart(i), maps, List.copyOf(chain)));
    }
    return out;
  }
}
