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
 * @param predictedLogQ the mean of log q the finite-width simulation predicts (NaN when q is
 *     judged by its mean: no simulation, or one weight draw)
 * @param measuredLogQ the mean over the measured pairs of log q (NaN as above)
 * @param logQAllowed the log q error allowed at this row when the check judges q by log q
 *     ({@link KernelCheck#logQAllowed}); NaN when it judges q by its mean ({@link #qAllowed})
 * @param pastJudgedNote null for a predicted row; for a row downstream of an op past which the
 *     maps predict nothing ({@link Unpredictable}: a trained transposed convolution, a gather at
 *     input-computed indices), which op, in a short sentence. Such a row holds its measurements
 *     only: its predicted values, allowances and errors are NaN, and nothing judges it
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
    double cAllowed,
    double predictedLogQ,
    double measuredLogQ,
    double logQAllowed,
    String pastJudgedNote) {

  /** A predicted measurement (not past an unpredictable op). */
  public KernelMeasurement(String tensor, int depth, double inputC, double predictedQ,
      double measuredQ, double predictedC, double measuredC, double qAllowed, double cAllowed,
      double predictedLogQ, double measuredLogQ, double logQAllowed) {
    this(tensor, depth, inputC, predictedQ, measuredQ, predictedC, measuredC, qAllowed, cAllowed,
        predictedLogQ, measuredLogQ, logQAllowed, null);
  }

  /**
   * A row past an op the maps cannot predict past: the measured q, c and mean log q, nothing
   * predicted, allowed or judged; {@code note} names the op.
   */
  public static KernelMeasurement pastJudged(String tensor, int depth, double inputC,
      double measuredQ, double measuredC, double measuredLogQ, String note) {
    return new KernelMeasurement(tensor, depth, inputC, Double.NaN, measuredQ, Double.NaN,
        measuredC, Double.NaN, Double.NaN, Double.NaN, measuredLogQ, Double.NaN,
        java.util.Objects.requireNonNull(note));
  }

  /**
   * Whether this row lies past an op the maps predict nothing after ({@link #pastJudgedNote}):
   * measured, not predicted, never an error.
   */
  public boolean pastJudged() {
    return pastJudgedNote != null;
  }

  /** A measurement whose q is judged by its mean. */
  public KernelMeasurement(String tensor, int depth, double inputC, double predictedQ,
      double measuredQ, double predictedC, double measuredC, double qAllowed, double cAllowed) {
    this(tensor, depth, inputC, predictedQ, measuredQ, predictedC, measuredC, qAllowed, cAllowed,
        Double.NaN, Double.NaN, Double.NaN);
  }

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

  /** Whether q is judged by log q ({@link #logQAllowed} set). */
  public boolean judgesLogQ() {
    return !Double.isNaN(logQAllowed);
  }

  /** |measured - predicted| mean log q; NaN when q is judged by its mean. */
  public double logQError() {
    return Math.abs(measuredLogQ - predictedLogQ);
  }

  /**
   * Whether q is beyond its allowance: by log q when {@link #judgesLogQ}, else by the mean q
   * against {@link #qAllowed} ({@code fallback}, the report's q tolerance, when that is NaN). A
   * NaN error (q not measured or not predicted) fails.
   */
  public boolean qFails(double fallback) {
    if (judgesLogQ()) {
      return !(logQError() <= logQAllowed);
    }
    return !(qError() <= (Double.isNaN(qAllowed) ? fallback : qAllowed));
  }
}
