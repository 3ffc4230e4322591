package dev.dks.rewriter.passes.fused;

import java.util.List;
import org.tensorflow.proto.DataType;

/**
 * A fused contraction node that {@link SplitFusedOpsPass} can split into standard ops: the base
 * contraction, then each fused stage in order.
 *
 * @param node the fused node's name (kept by the last op of the split)
 * @param op the fused op type, e.g. {@code _FusedConv2D}
 * @param baseOp the standard contraction op: {@code Conv2D}, {@code MatMul} or {@code
 *     DepthwiseConv2dNative}
 * @param dtype the element type {@code T}
 * @param input the contraction's first input (GraphDef syntax)
 * @param filter the contraction's second input (kernel or right-hand matrix)
 * @param stages the fused stages after the contraction, in order
 * @param controlInputs the fused node's control inputs ({@code ^name}), moved to the contraction
 */
public record FusedOpMatch(String node, String op, String baseOp, DataType dtype, String input,
    String filter, List<Stage> stages, List<String> controlInputs) {

  /** Copies the lists. */
  public FusedOpMatch {
    stages = List.copyOf(stages);
    controlInputs = List.copyOf(controlInputs);
  }

  /** What a fused stage does. */
  public enum StageKind {
    /** {@code BiasAdd(x, bias)}. */
    BIAS_ADD,
    /** {@code AddV2(x, addend)} (the fused residual add of oneDNN graphs). */
    ADD,
    /** Inference-form {@code FusedBatchNormV3(x, scale, offset, mean, variance)}. */
    BATCH_NORM,
    /** A unary activation: Relu, Relu6, Elu, LeakyRelu, Tanh or Sigmoid. */
    ACTIVATION
  }

  /**
   * One fused stage.
   *
   * @param kind what it does
   * @param op the standard op it becomes ({@code BiasAdd}, {@code AddV2}, {@code
   *     FusedBatchNormV3}, {@code Relu}, ...)
   * @param args its extra inputs taken from the fused node's {@code args} (GraphDef syntax)
   * @param value {@code epsilon} for batch norm, {@code alpha} for LeakyRelu, else 0
   */
  public record Stage(StageKind kind, String op, List<String> args, float value) {
    /** Copies the list. */
    public Stage {
      args = List.copyOf(args);
    }
  }
}
