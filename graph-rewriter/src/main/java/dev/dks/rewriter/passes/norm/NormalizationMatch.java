package dev.dks.rewriter.passes.norm;

import dev.dks.rewriter.graph.TensorName;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One normalization found in a graph by {@link NormalizationMatcher}. Its function is {@code
 * output = a * input + b} elementwise, with {@code a} and {@code b} per channel: from stored
 * statistics ({@code a = gamma / sqrt(variance + epsilon)}, {@code b = beta - mean * a}), or from
 * statistics of the input itself when {@link #batchStatistics()} is true (training-form batch
 * norm, layer norm), which cannot be folded.
 *
 * @param kind what it normalizes over
 * @param form how it is written in the graph
 * @param batchStatistics true when mean and variance are computed from the input at run time
 * @param anchor the node that identifies it (the FusedBatchNorm node, or the Rsqrt / Sqrt of the
 *     written-out forms), for messages
 * @param nodes the nodes that implement it (removed with it; shared parameter reads are not
 *     listed), in data-flow order where it matters; the last writes {@code output}
 * @param input the normalized tensor
 * @param output the tensor its consumers read
 * @param parameters parameter tensors by role: {@code gamma}, {@code beta}, {@code mean}, {@code
 *     variance} (each present when identified; mean and variance are the computed moments when
 *     {@code batchStatistics})
 * @param epsilon the variance epsilon, NaN when not identified
 * @param dataFormat {@code NHWC} or {@code NCHW} for fused ops, {@code null} for written-out forms
 * @param steps for written-out forms, the elementwise chain from input to output
 */
public record NormalizationMatch(NormKind kind, Form form, boolean batchStatistics, String anchor,
    List<String> nodes, TensorName input, TensorName output, Map<String, TensorName> parameters,
    double epsilon, String dataFormat, List<AffineStep> steps) {

  /** Copies the collections. */
  public NormalizationMatch {
    nodes = List.copyOf(nodes);
    parameters = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
    steps = List.copyOf(steps);
  }

  /** How a normalization is written. */
  public enum Form {
    /** One {@code FusedBatchNorm}, {@code FusedBatchNormV2} or {@code FusedBatchNormV3} op. */
    FUSED_OP,
    /** Elementwise ops: Sub / Mul / Rsqrt / Add (and Mean / SquaredDifference for moments). */
    WRITTEN_OUT,
    /**
     * Keras' LayerNormalization trick: Reshape to {@code [1, N, D, 1]}, a training-form {@code
     * FusedBatchNormV3} in NCHW, Reshape back, then Mul gamma and Add beta.
     */
    RESHAPED_FUSED_OP
  }

  /**
   * One elementwise step of a written-out normalization: {@code value op coefficient} (or {@code
   * coefficient op value} when {@code coefficientFirst}), where the coefficient does not depend
   * on the normalized input other than through its moments.
   *
   * @param node the step's node
   * @param op {@code Mul}, {@code RealDiv}, {@code Add}, {@code AddV2} or {@code Sub}
   * @param coefficient the other operand
   * @param coefficientFirst true when the coefficient is the first operand
   */
  public record AffineStep(String node, String op, TensorName coefficient,
      boolean coefficientFirst) {}

  /** The node whose output is {@link #output()}. */
  public String outputNode() {
    return output.node();
  }

  /** A one-line description for reports, e.g. {@code batch norm (FusedBatchNormV3 'bn')}. */
  public String describe() {
    String what = switch (kind) {
      case BATCH_NORM -> "batch norm";
      case LAYER_NORM -> "layer norm";
      case OTHER -> "moments normalization";
    };
    String how = switch (form) {
      case FUSED_OP -> "fused op '" + anchor + "'";
      case WRITTEN_OUT -> "written out, " + nodes.size() + " ops around '" + anchor + "'";
      case RESHAPED_FUSED_OP -> "Keras reshape + FusedBatchNorm '" + anchor + "'";
    };
    return what + (batchStatistics ? " with batch statistics" : "") + " (" + how + ")";
  }
}
