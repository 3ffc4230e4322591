package dev.dks.rewriter.analysis;

import dev.dks.rewriter.graph.TensorName;
import java.util.List;

/**
 * An elementwise activation found in a graph, possibly spread over several nodes (swish, GELU).
 *
 * @param kind what it computes: a dks-solver id ({@code relu}, {@code leaky_relu}, {@code elu},
 *     {@code selu}, {@code softplus}, {@code sigmoid}, {@code tanh}, {@code softsign}, {@code
 *     swish}, {@code gelu}, {@code gelu_exact}) or a TF-only kind ({@code relu6}, {@code
 *     hard_swish}, {@code prelu}: relu(x) - alpha * relu(-x) with per-channel alpha)
 * @param parameter the leaky ReLU's alpha, NaN otherwise
 * @param input the tensor the activation is applied to
 * @param output the node whose output 0 is the activation's result
 * @param nodes every node that belongs to the activation (output included)
 */
public record ActivationSite(
    String kind, double parameter, TensorName input, String output, List<String> nodes) {
  /** Copies the node list. */
  public ActivationSite {
    nodes = List.copyOf(nodes);
  }
}
