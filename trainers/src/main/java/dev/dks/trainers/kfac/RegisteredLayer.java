package dev.dks.trainers.kfac;

import java.util.List;

/**
 * A layer that gets a Kronecker-factored curvature block: a dense {@code MatMul(a, W)} or an NHWC
 * {@code Conv2D(a, W)}, optionally followed by a bias add, with its tensors named in the training
 * graph.
 *
 * @param kind dense or conv
 * @param node the MatMul / Conv2D node
 * @param kernelVariable the kernel's VariableV2 node ({@code [d_in, d_out]} or HWIO
 *     {@code [kh, kw, c_in, c_out]})
 * @param biasVariable the bias's VariableV2 node ({@code [d_out]}), or empty when the layer has no
 *     trainable bias (the homogeneous coordinate is then dropped)
 * @param input the layer input {@code a} as {@code node:index}
 * @param output the tensor whose gradient is {@code g}: the bias add's output when there is a
 *     bias, else the layer node's output
 * @param kernelShape the kernel's static shape
 * @param strides conv strides {@code [sh, sw]} (empty for dense)
 * @param padding conv padding {@code SAME} or {@code VALID} (empty for dense)
 * @param locations output locations T per example ({@code H_out * W_out}; 1 for dense)
 */
public record RegisteredLayer(
    Kind kind,
    String node,
    String kernelVariable,
    String biasVariable,
    String input,
    String output,
    long[] kernelShape,
    List<Long> strides,
    String padding,
    long locations) {

  /** The layer kinds with a Kronecker-factored block. */
  public enum Kind {
    /** {@code MatMul} without transposes. */
    DENSE,
    /** {@code Conv2D}, NHWC, no dilation, SAME or VALID padding. */
    CONV2D
  }

  /** Copies the arrays. */
  public RegisteredLayer {
    kernelShape = kernelShape.clone();
    strides = List.copyOf(strides);
  }

  /** Whether the bias shares the block through the homogeneous coordinate. */
  public boolean hasBias() {
    return !biasVariable.isEmpty();
  }

  /** Rows of the input factor A: {@code d_in} (kh kw c_in for a conv) plus 1 with a bias. */
  public int inputDim() {
    long d = 1;
    for (int i = 0; i < kernelShape.length - 1; i++) {
      d *= kernelShape[i];
    }
    return Math.toIntExact(d + (hasBias() ? 1 : 0));
  }

  /** Rows of the output factor G: {@code d_out}. */
  public int outputDim() {
    return Math.toIntExact(kernelShape[kernelShape.length - 1]);
  }

  @Override
  public long[] kernelShape() {
    return kernelShape.clone();
  }
}
