package dev.dks.rewriter.analysis;

/**
 * An affine layer on the network path: Conv2D, DepthwiseConv2dNative or MatMul with its weights.
 *
 * @param node the Conv2D / DepthwiseConv2dNative / MatMul node
 * @param op its op
 * @param kernelVariable the VariableV2 (or Const) node holding the kernel, seen through
 *     Identity/ReadVariableOp; empty string when the kernel is computed
 * @param biasNode the BiasAdd/Add/AddV2 that adds a bias right after it, or empty string
 * @param biasVariable the VariableV2 (or Const) node holding that bias, or empty string
 */
public record LayerSite(
    String node, String op, String kernelVariable, String biasNode, String biasVariable) {}
