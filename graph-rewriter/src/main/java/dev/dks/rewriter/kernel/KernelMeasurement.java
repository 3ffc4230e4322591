package dev.dks.rewriter.kernel;

/**
 * Predicted and measured kernel values at one tensor of the network for one input c value.
 *
 * @param tensor the graph tensor measured (a layer's input, or the output)
 * @param depth nonlinear layers between the network input and this tensor
 * @param inputC the c value of the input pair
 * @param predictedQ the q value the shaped maps predict (1 after shaped activations)
 * @param measuredQ the mean q value of the measured pairs
 * @param predictedC c propagated through the local C maps of the derived structure
 * @param measuredC the mean c value of the measured pairs
 */
public record KernelMeasurement(
    String tensor,
    int depth,
    double inputC,
    double predictedQ,
    double measuredQ,
    double predictedC,
    double measuredC) {

  /** |measured c - predicted c|. */
  public double cError() {
    return Math.abs(measuredC - predictedC);
  }

  /** |measured q - predicted q|, NaN when q is not predicted. */
  public double qError() {
    return Math.abs(measuredQ - predictedQ);
  }
}
