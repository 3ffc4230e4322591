package dev.dks.rewriter.model;

import dev.dks.rewriter.graph.TensorName;
import org.tensorflow.proto.DataType;

/**
 * One input or output of a signature.
 *
 * @param tensor the graph tensor, e.g. {@code input:0}
 * @param dtype its element type
 * @param shape its shape, -1 for unknown dimensions; null when the rank is unknown
 */
public record TensorSpec(TensorName tensor, DataType dtype, long[] shape) {}
