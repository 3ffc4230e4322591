package dev.dks.rewriter.builder;

import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.solver.activation.ShapingParams;
import dev.dks.solver.network.NetworkMaps;
import dev.dks.solver.network.Structure;
import dev.dks.solver.solve.ShapingSolution;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.TensorProto;

/**
 * What {@link ModelBuilder#build} returns.
 *
 * @param model the graph (input placeholder {@code input}, output {@code logits}), the initial
 *     values of its {@code VariableV2} nodes and the {@code serving_default} signature
 * @param structure the dks-solver structure the builder declares for what it emitted (the one the
 *     activations were shaped for); for unshaped ResNets with unnormalized AddV2 merges each merge
 *     is declared as the normalized sum with weights {@code sqrt(1/2)}, which has the same C map
 *     when both branches have equal q
 * @param layers every layer in emission order
 * @param spec the spec the model was built from
 * @param shaping the solve: DKS or TAT for shaped builds, UNTRANSFORMED (identity parameters)
 *     otherwise
 */
public record BuiltModel(
    Model model,
    Structure structure,
    List<LayerInfo> layers,
    ArchitectureSpec spec,
    ShapingSolution shaping) {

  /** Copies the layer list. */
  public BuiltModel {
    layers = List.copyOf(layers);
  }

  /** The layers of one kind, in emission order. */
  public List<LayerInfo> layers(LayerInfo.Kind kind) {
    return layers.stream().filter(l -> l.kind() == kind).toList();
  }

  /** The parameters of every activation (identity for unshaped builds). */
  public ShapingParams activationParams() {
    return shaping.get(spec.activationFunction().id()).params();
  }

  /** The network maps of {@link #structure()}. */
  public NetworkMaps networkMaps() {
    return NetworkMaps.of(structure);
  }

  /** Number of values in all variables (batch-norm moving statistics included). */
  public long parameterCount() {
    return count(model.variables());
  }

  /** Number of trainable values: all variables except batch-norm moving mean and variance. */
  public long trainableParameterCount() {
    return model.variables().entrySet().stream()
        .filter(e -> !e.getKey().endsWith("/moving_mean")
            && !e.getKey().endsWith("/moving_variance"))
        .mapToLong(e -> elements(e.getValue())).sum();
  }

  private static long count(Map<String, TensorProto> vars) {
    return vars.values().stream().mapToLong(BuiltModel::elements).sum();
  }

  private static long elements(TensorProto t) {
    long n = 1;
    for (long d : TensorProtos.shape(t)) {
      n *= d;
    }
    return n;
  }
}
