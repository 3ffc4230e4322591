package dev.dks.rewriter.analysis;

import dev.dks.solver.network.Dag;
import dev.dks.solver.network.Structure;
import java.util.List;

/**
 * What the structure analysis found on the path from the inputs to the outputs of a graph.
 *
 * @param layers affine layers in topological order
 * @param activations activation sites in topological order
 * @param merges residual merges and concatenations
 * @param dag the network as a kernel DAG (layers = affine + activation)
 * @param structure the dks-solver structure: the DAG, maximized with the deepest single residual
 *     branch when there are residual merges (as the reference's subnetwork maximum)
 * @param warnings ops the analysis could not model exactly, with node names
 * @param dagIndex the DAG node of every graph node on the path (output 0 of the graph node)
 * @param layerActivations the activation site of every LAYER node of the DAG, by DAG index
 */
public record NetworkAnalysis(
    List<LayerSite> layers,
    List<ActivationSite> activations,
    List<MergeSite> merges,
    Dag dag,
    Structure structure,
    List<String> warnings,
    java.util.Map<String, Integer> dagIndex,
    java.util.Map<Integer, ActivationSite> layerActivations) {

  /** Copies the lists. */
  public NetworkAnalysis {
    layers = List.copyOf(layers);
    activations = List.copyOf(activations);
    merges = List.copyOf(merges);
    warnings = List.copyOf(warnings);
    dagIndex = java.util.Map.copyOf(dagIndex);
    layerActivations = java.util.Map.copyOf(layerActivations);
  }

  /** The residual merges only. */
  public List<MergeSite> residualMerges() {
    return merges.stream().filter(m -> m.kind().equals("residual")).toList();
  }
}
