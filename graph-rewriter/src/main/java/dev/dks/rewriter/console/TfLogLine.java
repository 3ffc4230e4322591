package dev.dks.rewriter.console;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Recognizes the lines TensorFlow's C++ runtime writes to stderr. TF 2.18 (TF Java 1.1.0) logs
 * through two libraries with two formats:
 *
 * <ul>
 *   <li>TSL logging: {@code 2026-12-06 19:45:20.375553: I tensorflow/core/util/port.cc:153] text}
 *       (honours {@code TF_CPP_MIN_LOG_LEVEL}, read once at the first log line);
 *   <li>Abseil logging: {@code I0000 00:00:1796586315.388660    7496 mlir_graph_optimization_pass.cc:401] text},
 *       preceded once by {@code WARNING: All log messages before absl::InitializeLog() is called
 *       are written to STDERR} (ignores {@code TF_CPP_MIN_LOG_LEVEL}).
 * </ul>
 *
 * A message may span several lines (the CPU feature notice does); only its first line has the
 * header. {@link NativeStderrFilter} drops a following line with the header's message only when
 * it arrives with it and {@link #isContinuation} says it continues one (a pipe does not keep
 * write boundaries, so any other line is shown rather than risk hiding it).
 */
public final class TfLogLine {
  private TfLogLine() {}

  private static final Pattern TSL =
      Pattern.compile("^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d+: ([IWEF]) \\S+:\\d+\\] ");
  private static final Pattern ABSL =
      Pattern.compile("^([IWEF])\\d{4} \\d\\d:\\d\\d:\\d+\\.\\d+ +\\d+ \\S+:\\d+\\] ");

  /** The line Abseil writes once before its first message when logging was never initialized. */
  public static final String ABSL_PREAMBLE =
      "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR";

  /**
   * The severity letter ({@code I}, {@code W}, {@code E} or {@code F}) of a TF log line's header,
   * {@code 'W'} for the Abseil preamble, or {@code 0} when the line is not a TF log header.
   */
  public static char severity(String line) {
    if (line.startsWith(ABSL_PREAMBLE)) {
      return 'W';
    }
    Matcher m = TSL.matcher(line);
    if (m.find()) {
      return m.group(1).charAt(0);
    }
    m = ABSL.matcher(line);
    return m.find() ? m.group(1).charAt(0) : 0;
  }

  /**
   * Whether a line without a header, right after a TF log header, continues its message: an
   * indented line, or the second line of TF's CPU feature notice.
   */
  public static boolean isContinuation(String line) {
    return line.startsWith(" ") || line.startsWith("\t")
        || line.startsWith("To enable the following instructions:");
  }

  /** Whether the line is the header of a TF C++ log message (or the Abseil preamble). */
  public static boolean isHeader(String line) {
    return severity(line) != 0;
  }
}
