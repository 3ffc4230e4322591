package dev.dks.rewriter.builder;

import dev.dks.rewriter.graph.TensorName;
import java.util.List;

/**
 * One layer the builder emitted.
 *
 * @param name the layer's name scope, e.g. {@code group_1/block_0/conv_1}; its nodes are named
 *     {@code name/...}
 * @param kind what the layer is
 * @param variables names of its {@code VariableV2} nodes (kernel then bias; BN: gamma, beta,
 *     moving mean, moving variance), empty for layers without weights
 * @param output the tensor the layer produces
 */
public record LayerInfo(String name, Kind kind, List<String> variables, TensorName output) {
  /** Copies the variable list. */
  public LayerInfo {
    variables = List.copyOf(variables);
  }

  /** Layer kinds. */
  public enum Kind {
    /** MatMul (+ BiasAdd): kernel {@code [in, out]}, bias {@code [out]}. */
    DENSE,
    /** Conv2D (+ BiasAdd), NHWC, SAME padding: kernel HWIO, bias {@code [out]}. */
    CONV,
    /** FusedBatchNormV3 in inference form (is_training = false). */
    BATCH_NORM,
    /** An activation, raw or shaped (emitted by ActivationEmitter). */
    ACTIVATION,
    /** A residual merge: AddV2, or a normalized sum of two Mul by Consts and an AddV2. */
    MERGE,
    /** MaxPool, AvgPool, or the global average pool (Mean over H and W). */
    POOL;

    /** Lower-case name used in reports ({@code dense}, {@code conv}, {@code bn}, ...). */
    public String label() {
      return switch (this) {
        case DENSE -> "dense";
        case CONV -> "conv";
        case BATCH_NORM -> "bn";
        case ACTIVATION -> "activation";
        case MERGE -> "merge";
        case POOL -> "pool";
      };
    }
  }
}
