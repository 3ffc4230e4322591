package dev.dks.rewriter.kernel;

/**
 * The kernel check of one model output: its report (measured against predicted q and c along
 * the structure from the input to that output, {@code StructureAnalyzer} run for that output
 * alone), or why it was not checked (e.g. it does not depend on the fed input, or it is not a
 * float tensor): such an output is neither a pass nor a failure.
 *
 * @param output the output node
 * @param report the output's kernel report; null when not checked
 * @param notChecked why the output was not checked; null when checked
 */
public record OutputCheck(String output, KernelReport report, String notChecked) {
  /** Exactly one of report and notChecked. */
  public OutputCheck {
    if ((report == null) == (notChecked == null)) {
      throw new IllegalArgumentException("an output check has a report or a reason, not both");
    }
  }

  /** Whether the output was checked. */
  public boolean checked() {
    return report != null;
  }
}
