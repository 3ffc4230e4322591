package dev.dks.rewriter.kernel;

import java.util.List;

/**
 * The kernel check's verdict: every measurement, the tolerances it was held to, and whether the
 * output's measured c stayed within the c tolerance of the prediction for every input c (the
 * criterion), with the worst errors over all layers for information.
 *
 * @param rows measurements in network order, for each input c
 * @param cTolerance allowed |measured - predicted| of c at the output
 * @param qTolerance allowed |measured - predicted| of q at the output
 * @param width the feature width at the output (finite-width error scales as 1/sqrt(width))
 * @param passed whether the output rows are within both tolerances
 */
public record KernelReport(
    List<KernelMeasurement> rows, double cTolerance, double qTolerance, long width,
    boolean passed) {

  /** Copies the rows. */
  public KernelReport {
    rows = List.copyOf(rows);
  }

  /** The largest c error over all rows. */
  public double maxCError() {
    return rows.stream().mapToDouble(KernelMeasurement::cError).max().orElse(0);
  }

  /** The rows measured at the output. */
  public List<KernelMeasurement> outputRows() {
    int last = rows.stream().mapToInt(KernelMeasurement::depth).max().orElse(0);
    String out = rows.isEmpty() ? "" : rows.get(rows.size() - 1).tensor();
    return rows.stream().filter(r -> r.tensor().equals(out) && r.depth() == last).toList();
  }

  /** A readable table with the tolerances and the verdict. */
  public String toText() {
    StringBuilder b = new StringBuilder();
    b.append(String.format("kernel check: c tolerance %.3f, q tolerance %.3f at the output "
        + "(width %d)%n", cTolerance, qTolerance, width));
    b.append(String.format("%-40s %5s %7s %9s %9s %9s %9s%n", "tensor", "depth", "c_in",
        "q_pred", "q_meas", "c_pred", "c_meas"));
    for (KernelMeasurement r : rows) {
      b.append(String.format("%-40s %5d %7.3f %9.4f %9.4f %9.4f %9.4f%n", shorten(r.tensor()),
          r.depth(), r.inputC(), r.predictedQ(), r.measuredQ(), r.predictedC(), r.measuredC()));
    }
    b.append(passed ? "PASS" : "FAIL").append(String.format(": largest output c error %.4f, "
        + "largest c error over all layers %.4f%n", outputRows().stream()
        .mapToDouble(KernelMeasurement::cError).max().orElse(0), maxCError()));
    return b.toString();
  }

  private static String shorten(String s) {
    return s.length() <= 40 ? s : "..." + s.substring(s.length() - 37);
  }
}
