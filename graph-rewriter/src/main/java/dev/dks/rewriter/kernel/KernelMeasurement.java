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
 * @param qAllowed the q error allowed at this row when the check judges it: the q tolerance, or
 *     more where the weight draws' own spread of q leaves the averaged q a larger standard error
 *     (see {@link KernelCheck}); NaN when not set (the report's q tolerance applies)
 * @param cAllowed the c error allowed at this row when the check judges it: the c tolerance, or
 *     more where the standard error of the measured c and of its prediction leaves the error
 *     undetermined at that tolerance ({@link KernelCheck#cAllowed}); NaN when not set (the
 *     report's c tolerance applies)
 */
public record KernelMeasurement(
    String tensor,
    int depth,
    double inputC,
    double predictedQ,
    double measuredQ,
    double predictedC,
    double measuredC,
    double qAllowed,
    double cAllowed) {

  /** A measurement without its own allowed errors (the report's tolerances apply). */
  public KernelMeasurement(String tensor, int depth, double inputC, double predictedQ,
      double measuredQ, double predictedC, double measuredC) {
    this(tensor, depth, inputC, predictedQ, measuredQ, predictedC, measuredC, Double.NaN);
  }

  /** A measurement without its own allowed c error (the report's c tolerance applies). */
  public KernelMeasurement(String tensor, int depth, double inputC, double predictedQ,
      double measuredQ, double predictedC, double measuredC, double qAllowed) {
    this(tensor, depth, inputC, predictedQ, measuredQ, predictedC, measuredC, qAllowed,
        Double.NaN);
  }

  /** |measured c - predicted c|. */
  public double cError() {
    return Math.abs(measuredC - predictedC);
  }

  /** |measured q - predicted q|, NaN when q is not predicted. */
  public double qError() {
    return Math.abs(measuredQ - predictedQ);
  }
}
