package dev.dks.rewriter.model;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.TensorProto;

/**
 * A TensorFlow model as the rewriter and the readers/writers see it: a TF1-style graph whose
 * trainable state lives in {@code VariableV2} nodes, the values of those variables, and the
 * signatures through which it is called.
 *
 * @param graph the graph (no function calls left once the inlining pass ran)
 * @param variables value of each variable, keyed by its {@code VariableV2} node name; dtype and
 *     shape as in the TensorProto
 * @param signatures the callable entry points (serving_default first when present)
 */
public record Model(GraphDef graph, Map<String, TensorProto> variables, List<Signature> signatures) {

  /** Copies the collections (insertion order kept). */
  public Model {
    variables = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(variables));
    signatures = List.copyOf(signatures);
  }

  /** The same model with another graph and variables. */
  public Model with(GraphDef newGraph, Map<String, TensorProto> newVariables) {
    return new Model(newGraph, newVariables, signatures);
  }

  /** The signature with this key. */
  public Signature signature(String key) {
    return signatures.stream().filter(s -> s.key().equals(key)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("the model has no signature '" + key
            + "'; it has " + signatures.stream().map(Signature::key).toList()));
  }

  /** Names of the nodes that the signatures feed (the network inputs). */
  public List<String> inputNodes() {
    return signatures.stream().flatMap(s -> s.inputs().values().stream())
        .map(t -> t.tensor().node()).distinct().toList();
  }

  /** Names of the nodes that produce the signatures' outputs (the roots of the graph). */
  public List<String> outputNodes() {
    return signatures.stream().flatMap(s -> s.outputs().values().stream())
        .map(t -> t.tensor().node()).distinct().toList();
  }
}
