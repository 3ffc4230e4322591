package dev.dks.rewriter.kernel;

import java.util.List;

/**
 * The kernel check's verdict: every measurement, the tolerances it was held to, and whether the
 * judged tensor (the features the last layer reads: the network's output representation) stayed
 * within the tolerances of the prediction for every input c, with the worst errors over all
 * layers for information.
 *
 * @param rows measurements in network order, for each input c
 * @param cTolerance allowed |measured - predicted| of c at the judged tensor
 * @param qTolerance allowed |measured - predicted| of q at the judged tensor
 * @param width the feature width of the judged tensor (finite-width error ~ 1/sqrt(width))
 * @param judgedTensor the tensor the verdict is about
 * @param passed whether the judged rows are within both tolerances
 */
public record KernelReport(
    List<KernelMeasurement> rows, double cTolerance, double qTolerance, long width,
    String judgedTensor, boolean passed) {

  /** Copies the rows. */
  public KernelReport {
    rows = List.copyOf(rows);
  }

  /** The largest c error over all rows. */
  public double maxCError() {
    return rows.stream().mapToDouble(KernelMeasurement::cError).max().orElse(0);
  }

  /** The rows of the judged tensor. */
  public List<KernelMeasurement> judgedRows() {
    return rows.stream().filter(r -> r.tensor().equals(judgedTensor)).toList();
  }

  /** A readable table with the tolerances and the verdict. */
  public String toText() {
    StringBuilder b = new StringBuilder();
    b.append(String.format("kernel check: c tolerance %.3f, q tolerance %.3f at '%s' "
        + "(width %d)%n", cTolerance, qTolerance, judgedTensor, width));
    b.append(String.format("%-40s %5s %7s %9s %9s %9s %9s%n", "tensor", "depth", "c_in",
        "q_pred", "q_meas", "c_pred", "c_meas"));
    for (KernelMeasurement r : rows) {
      b.append(String.format("%-40s %5d %7.3f %9.4f %9.4f %9.4f %9.4f%n", shorten(r.tensor()),
          r.depth(), r.inputC(), r.predictedQ(), r.measuredQ(), r.predictedC(), r.measuredC()));
    }
    b.append(passed ? "PASS" : "FAIL").append(String.format(": at '%s' largest c error %.4f, "
        + "largest q error %.4f; largest c error over all layers %.4f%n", judgedTensor,
        judgedRows().stream().mapToDouble(KernelMeasurement::cError).max().orElse(0),
        judgedRows().stream().mapToDouble(KernelMeasurement::qError).max().orElse(0),
        maxCError()));
    return b.toString();
  }

  private static String shorten(String s) {
    return s.length() <= 40 ? s : "..." + s.substring(s.length() - 37);
  }
}
