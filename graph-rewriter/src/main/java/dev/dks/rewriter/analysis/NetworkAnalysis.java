package dev.dks.rewriter.analysis;

import dev.dks.rewriter.graph.TensorName;
import dev.dks.solver.network.Dag;
import dev.dks.solver.network.Structure;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the structure analysis found on the paths from the inputs to the outputs of a graph.
 *
 * <p>Body and head: the body is every node on a path from the inputs that is a trainable linear
 * layer (Conv2D, DepthwiseConv2dNative, MatMul) or has one after it on some path to an output;
 * the head of an output is what follows the body on the way to it (link functions, reshapes,
 * decoding, loops), left exactly as it is by the rewrite. Layers, activation sites and merges are
 * body only.
 *
 * @param layers affine layers in topological order
 * @param activations activation sites of the body in topological order
 * @param merges residual merges and concatenations of the body
 * @param dag the network to the first output as a kernel DAG (layers = affine + activation)
 * @param structure the dks-solver structure: the maximum over the outputs' DAGs, and with the
 *     deepest single residual branch when there are residual merges (as the reference's
 *     subnetwork maximum)
 * @param warnings ops the analysis could not model exactly, with node names
 * @param dagIndex the DAG node of every graph node on the path (output 0 of the graph node)
 * @param layerActivations the activation site of every LAYER node of the DAG, by DAG index
 * @param body the body's nodes (on a path from the inputs)
 * @param head per output node, its head's nodes in topological order (nodes in or after a
 *     control-flow loop last); empty when the output is a body node
 * @param bodyOutputs per output node, the body tensors its head reads (the output itself when it
 *     is a body node)
 * @param outputDags per output node, the kernel DAG that ends at it (the same nodes as {@code
 *     dag}, with its own last node)
 * @param indexArithmetic the nodes computed from the inputs whose every path to an output ends in
 *     an index or shape argument (gather indices, slice bounds, crop boxes, shapes: {@code
 *     IndexArguments}): no features, so not on the DAG, no layers and no activation sites
 */
public record NetworkAnalysis(
    List<LayerSite> layers,
    List<ActivationSite> activations,
    List<MergeSite> merges,
    Dag dag,
    Structure structure,
    List<String> warnings,
    Map<String, Integer> dagIndex,
    Map<Integer, ActivationSite> layerActivations,
    Set<String> body,
    Map<String, List<String>> head,
    Map<String, List<TensorName>> bodyOutputs,
    Map<String, Dag> outputDags,
    Set<String> indexArithmetic) {

  /** Copies the collections. */
  public NetworkAnalysis {
    layers = List.copyOf(layers);
    activations = List.copyOf(activations);
    merges = List.copyOf(merges);
    warnings = List.copyOf(warnings);
    dagIndex = Map.copyOf(dagIndex);
    layerActivations = Map.copyOf(layerActivations);
    body = Set.copyOf(body);
    head = Map.copyOf(head);
    bodyOutputs = Map.copyOf(bodyOutputs);
    outputDags = Map.copyOf(outputDags);
    indexArithmetic = Set.copyOf(indexArithmetic);
  }

  /** The residual merges only. */
  public List<MergeSite> residualMerges() {
    return merges.stream().filter(m -> m.kind().equals("residual")).toList();
  }
}
