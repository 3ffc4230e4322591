package dev.dks.rewriter.kernel;

import java.util.List;

/**
 * The kernel check's verdict: every measurement, the tolerances it was held to, and whether the
 * judged tensor (the features the last layer reads: the network's output representation) stayed
 * within the tolerances of the prediction for every input c, with the worst errors over all
 * layers for information.
 *
 * <p>Several outputs: {@link #outputs()} holds one {@link OutputCheck} per model output (its own
 * report, or why it was not checked); the rows, width and judged tensor here are those of the
 * first checked output, and {@link #passed()} is the verdict over every checked output. A report
 * of one output (and one built without outputs) has an empty {@link #outputs()}.
 *
 * @param rows measurements in network order, for each input c
 * @param cTolerance allowed |measured - predicted| of c at the judged tensor
 * @param qTolerance allowed |measured - predicted| of q at the judged tensor
 * @param width the feature width of the judged tensor (finite-width error ~ 1/sqrt(width))
 * @param judgedTensor the tensor the verdict is about
 * @param passed whether the judged rows are within both tolerances (of every checked output)
 * @param outputs per model output, its check (empty for a report of one output)
 * @param oneAtATime why the examples went through the graph one at a time (a batch fixed at 1,
 *     see {@link PairStatistics}), or null when each chunk of pairs went as one batch; the
 *     statistics and the verdict are the same either way
 * @param sampling the weight draws and pairs measured ({@link KernelSampling#UNKNOWN} when not
 *     recorded)
 * @param judgedNote why the judged tensor is not the last layer's input (an op past which the
 *     maps predict nothing lies before it, {@link Unpredictable}), or null when it is
 * @param nonZeroBiases the analysed layers' biases that are not zero ({@link InitialBiases}),
 *     which the prediction assumes zero; a warning, not part of the verdict (empty: none)
 */
public record KernelReport(
    List<KernelMeasurement> rows, double cTolerance, double qTolerance, long width,
    String judgedTensor, boolean passed, List<OutputCheck> outputs, String oneAtATime,
    KernelSampling sampling, String judgedNote, List<InitialBiases.NonZero> nonZeroBiases) {

  /** Biases named in the text warning before the rest are counted. */
  static final int NAMED_BIASES = 3;

  /** Copies the rows and outputs. */
  public KernelReport {
    rows = List.copyOf(rows);
    outputs = List.copyOf(outputs);
    sampling = sampling == null ? KernelSampling.UNKNOWN : sampling;
    nonZeroBiases = nonZeroBiases == null ? List.of() : List.copyOf(nonZeroBiases);
  }

  /** A report without non-zero biases. */
  public KernelReport(List<KernelMeasurement> rows, double cTolerance, double qTolerance,
      long width, String judgedTensor, boolean passed, List<OutputCheck> outputs,
      String oneAtATime, KernelSampling sampling, String judgedNote) {
    this(rows, cTolerance, qTolerance, width, judgedTensor, passed, outputs, oneAtATime,
        sampling, judgedNote, List.of());
  }

  /** This report with {@code biases} as the non-zero biases found ({@link InitialBiases}). */
  public KernelReport withNonZeroBiases(List<InitialBiases.NonZero> biases) {
    return new KernelReport(rows, cTolerance, qTolerance, width, judgedTensor, passed, outputs,
        oneAtATime, sampling, judgedNote, biases);
  }

  /** The warning on {@link #nonZeroBiases}, or null when there are none. */
  public String biasWarning() {
    return InitialBiases.warning(nonZeroBiases, NAMED_BIASES);
  }

  /** A report whose examples went as one batch per chunk, without sampling information. */
  public KernelReport(List<KernelMeasurement> rows, double cTolerance, double qTolerance,
      long width, String judgedTensor, boolean passed, List<OutputCheck> outputs) {
    this(rows, cTolerance, qTolerance, width, judgedTensor, passed, outputs, null,
        KernelSampling.UNKNOWN, null);
  }

  /** A report without a note on the judged tensor. */
  public KernelReport(List<KernelMeasurement> rows, double cTolerance, double qTolerance,
      long width, String judgedTensor, boolean passed, List<OutputCheck> outputs,
      String oneAtATime, KernelSampling sampling) {
    this(rows, cTolerance, qTolerance, width, judgedTensor, passed, outputs, oneAtATime,
        sampling, null);
  }

  /** This report with {@code s} as its sampling. */
  public KernelReport withSampling(KernelSampling s) {
    return new KernelReport(rows, cTolerance, qTolerance, width, judgedTensor, passed, outputs,
        oneAtATime, s, judgedNote, nonZeroBiases);
  }

  /** This report with {@code note} on why its judged tensor is where it is (null: none). */
  public KernelReport withJudgedNote(String note) {
    return new KernelReport(rows, cTolerance, qTolerance, width, judgedTensor, passed, outputs,
        oneAtATime, sampling, note, nonZeroBiases);
  }

  /** Whether the examples were fed one at a time ({@link #oneAtATime()}). */
  public boolean fedOneAtATime() {
    return oneAtATime != null;
  }

  /** This report, saying the examples were fed one at a time for {@code why} (null: batched). */
  public KernelReport withOneAtATime(String why) {
    return new KernelReport(rows, cTolerance, qTolerance, width, judgedTensor, passed, outputs,
        why, sampling, judgedNote, nonZeroBiases);
  }

  /** The report of one output. */
  public KernelReport(List<KernelMeasurement> rows, double cTolerance, double qTolerance,
      long width, String judgedTensor, boolean passed) {
    this(rows, cTolerance, qTolerance, width, judgedTensor, passed, List.of(), null,
        KernelSampling.UNKNOWN);
  }

  /** The reports of the checked outputs (this one alone when there is no per-output list). */
  public List<KernelReport> checkedReports() {
    if (outputs.isEmpty()) {
      return List.of(this);
    }
    return outputs.stream().filter(OutputCheck::checked).map(OutputCheck::report).toList();
  }

  /**
   * The largest c error over the rows that have one; NaN when none has (a row has no c error
   * when its measured or predicted c is not a number: a pair whose features at that tensor are
   * all zero or not finite has no c, e.g. the age model's width-1 output after its divisions;
   * see {@link #rowsWithoutCError}).
   * A NaN row used to make the whole maximum NaN.
   */
  public double maxCError() {
    List<KernelMeasurement> predicted = predictedRows();
    return predicted.stream().mapToDouble(KernelMeasurement::cError).filter(Double::isFinite)
        .max().orElse(predicted.isEmpty() ? 0 : Double.NaN);
  }

  /**
   * The predicted rows whose c error is not a number ({@link #maxCError} leaves them out); rows
   * past an unpredictable op ({@link #pastJudgedRows}) have none by design and are not listed.
   */
  public List<KernelMeasurement> rowsWithoutCError() {
    return predictedRows().stream().filter(r -> !Double.isFinite(r.cError())).toList();
  }

  /**
   * The rows past an op the maps predict nothing after ({@link KernelMeasurement#pastJudged}):
   * measured only, with no prediction and no error. Before session 19 they carried the maps'
   * values (q 1 where facemesh-attention measured 0.11 after its crops), which read as failures.
   */
  public List<KernelMeasurement> pastJudgedRows() {
    return rows.stream().filter(KernelMeasurement::pastJudged).toList();
  }

  /** The rows the maps predict (all but {@link #pastJudgedRows}). */
  private List<KernelMeasurement> predictedRows() {
    return rows.stream().filter(r -> !r.pastJudged()).toList();
  }

  /**
   * The allowances at the judged tensor that stay wider than their base tolerance, by name:
   * {@code "c"} (the largest allowed c error, when above the c tolerance), {@code "log_q"} (the
   * largest allowed log q error where q is judged by log q, when above log(1 + q tolerance)) and
   * {@code "q"} (the largest allowed q error where q is judged by its mean, when above the q
   * tolerance); empty when every allowance is its tolerance. An allowance widens with the
   * standard error of the draws' means ({@link KernelCheck#cAllowed}), so an error inside it but
   * beyond the tolerance is not seen.
   */
  public java.util.Map<String, Double> widenedAllowances() {
    java.util.Map<String, Double> w = new java.util.LinkedHashMap<>();
    double c = judgedRows().stream().mapToDouble(KernelMeasurement::cAllowed)
        .filter(x -> x > cTolerance * (1 + 1e-12)).max().orElse(Double.NaN);
    double base = Math.log1p(qTolerance);
    double logQ = judgedRows().stream().filter(KernelMeasurement::judgesLogQ)
        .mapToDouble(KernelMeasurement::logQAllowed).filter(x -> x > base * (1 + 1e-12)).max()
        .orElse(Double.NaN);
    double q = judgedRows().stream().filter(r -> !r.judgesLogQ())
        .mapToDouble(KernelMeasurement::qAllowed).filter(x -> x > qTolerance * (1 + 1e-12))
        .max().orElse(Double.NaN);
    if (!Double.isNaN(c)) {
      w.put("c", c);
    }
    if (!Double.isNaN(logQ)) {
      w.put("log_q", logQ);
    }
    if (!Double.isNaN(q)) {
      w.put("q", q);
    }
    return w;
  }

  /**
   * {@link #widenedAllowances} over every checked output: the widest allowance of each name.
   */
  public java.util.Map<String, Double> widenedAllowancesOfCheckedOutputs() {
    java.util.Map<String, Double> w = new java.util.LinkedHashMap<>();
    checkedReports().forEach(k -> k.widenedAllowances().forEach((name, v) -> w.merge(name, v,
        Math::max)));
    return w;
  }

  /**
   * Whether the draws stopped at the check's cost limit ({@link KernelSampling#budgetLimited}),
   * not because the examples went one at a time (then the rule adds no draw at all).
   */
  public boolean drawsBudgetLimited() {
    return sampling.budgetLimited() && oneAtATime == null;
  }

  /**
   * Whether this is a weak pass: it passed, but an allowance of a checked output stayed wider
   * than its tolerance ({@link #widenedAllowances}), so the verdict does not exclude errors up
   * to the widened value.
   */
  public boolean weakPass() {
    return passed && checkedReports().stream().anyMatch(r -> !r.widenedAllowances().isEmpty());
  }

  /**
   * The first row (by depth) whose predicted q is past what float32 holds ({@link QOverflow}), or
   * null; over every checked output's rows.
   */
  public QOverflow qOverflow() {
    QOverflow o = QOverflow.first(rows);
    if (o != null) {
      return o;
    }
    for (OutputCheck c : outputs) {
      if (c.checked()) {
        o = QOverflow.first(c.report().rows());
        if (o != null) {
          return o;
        }
      }
    }
    return null;
  }

  /** The rows of the judged tensor. */
  public List<KernelMeasurement> judgedRows() {
    return rows.stream().filter(r -> r.tensor().equals(judgedTensor)).toList();
  }

  /**
   * A readable table with the tolerances and the verdict; with several outputs, one table per
   * checked output and a line per output not checked, then the verdict over all.
   */
  public String toText() {
    String fed = oneAtATime == null ? "" : String.format("note: examples were fed one at a "
        + "time: %s%n", oneAtATime);
    if (!nonZeroBiases.isEmpty()) {
      fed = "warning: " + biasWarning() + String.format("%n") + fed;
    }
    if (outputs.size() <= 1) {
      return fed + table();
    }
    StringBuilder b = new StringBuilder(fed);
    int failed = 0;
    int checked = 0;
    for (OutputCheck o : outputs) {
      if (!o.checked()) {
        b.append(String.format("output '%s': not checked: %s%n", o.output(), o.notChecked()));
        continue;
      }
      checked++;
      failed += o.report().passed() ? 0 : 1;
      b.append(String.format("output '%s':%n", o.output())).append(o.report().table());
    }
    b.append(passed ? "PASS" : "FAIL").append(String.format(": %d of %d checked outputs within "
        + "the tolerances (%d not checked)%n", checked - failed, checked,
        outputs.size() - checked));
    return b.toString();
  }

  private String table() {
    StringBuilder b = new StringBuilder();
    b.append(String.format("kernel check: c tolerance %.3f, q tolerance %.3f at '%s' "
        + "(width %d)%n", cTolerance, qTolerance, judgedTensor, width));
    if (sampling.draws() > 0) {
      int first = sampling.draws() - sampling.addedDraws();
      b.append(String.format("measured over %d weight draw%s x %d pairs per input c", first,
          first == 1 ? "" : "s", sampling.pairsPerDraw()));
      if (sampling.addedDraws() > 0) {
        b.append(String.format(" + %d draws x %d pairs", sampling.addedDraws(),
            sampling.addedPairsPerDraw()));
      }
      b.append(" (").append(sampling.rule()).append(')');
      if (!Double.isNaN(sampling.cStandardError())) {
        b.append(String.format("; standard error of c at '%s' %.4f", judgedTensor,
            sampling.cStandardError()));
      }
      b.append(String.format("%n"));
    }
    if (judgedNote != null) {
      b.append("note: ").append(judgedNote).append(String.format("%n"));
    }
    b.append(String.format("%-40s %5s %7s %9s %9s %9s %9s%n", "tensor", "depth", "c_in",
        "q_pred", "q_meas", "c_pred", "c_meas"));
    for (KernelMeasurement r : rows) {
      if (r.pastJudged()) {
        // measured only: no prediction to show, so no error to read
        b.append(String.format("%-40s %5d %7.3f %9s %9.4f %9s %9.4f  (not predicted)%n",
            shorten(r.tensor()), r.depth(), r.inputC(), "-", r.measuredQ(), "-",
            r.measuredC()));
        continue;
      }
      b.append(String.format("%-40s %5d %7.3f %9.4f %9.4f %9.4f %9.4f%n", shorten(r.tensor()),
          r.depth(), r.inputC(), r.predictedQ(), r.measuredQ(), r.predictedC(), r.measuredC()));
    }
    List<KernelMeasurement> past = pastJudgedRows();
    if (!past.isEmpty()) {
      long tensors = past.stream().map(KernelMeasurement::tensor).distinct().count();
      b.append(String.format("note: %d row%s at %d tensor%s (not predicted) lie past %s: "
          + "measured only, neither predicted nor judged, and not errors%n", past.size(),
          past.size() == 1 ? "" : "s", tensors, tensors == 1 ? "" : "s",
          past.stream().map(KernelMeasurement::pastJudgedNote).map(KernelReport::opOf)
              .distinct().collect(java.util.stream.Collectors.joining(", "))));
    }
    b.append(passed ? "PASS" : "FAIL").append(String.format(": at '%s' largest c error %.4f, "
        + "largest q error %.4f; largest c error over all layers %s%n", judgedTensor,
        judgedRows().stream().mapToDouble(KernelMeasurement::cError).max().orElse(0),
        judgedRows().stream().mapToDouble(KernelMeasurement::qError).max().orElse(0),
        allLayersCError()));
    QOverflow overflow = qOverflow();
    if (overflow != null) {
      b.append("note: ").append(overflow.describe()).append('\n');
    }
    java.util.Map<String, Double> wide = widenedAllowances();
    if (wide.containsKey("q")) {
      double widened = wide.get("q");
      b.append(String.format("note: q at '%s' allows an error of %.3f, not %.3f: the weight "
          + "draws' q spread that far (finite width), so their mean does not determine q "
          + "closer%n", judgedTensor, widened, qTolerance));
    }
    double logAllowed = judgedRows().stream().filter(KernelMeasurement::judgesLogQ)
        .mapToDouble(KernelMeasurement::logQAllowed).max().orElse(Double.NaN);
    if (!Double.isNaN(logAllowed)) {
      b.append(String.format("note: q at '%s' is judged by its mean log q (largest error %.4f, "
          + "allowed %.3f): at finite width q is heavy-tailed, so its mean over the draws is "
          + "not determined, its logarithm is%n", judgedTensor, judgedRows().stream()
          .filter(KernelMeasurement::judgesLogQ).mapToDouble(KernelMeasurement::logQError)
          .max().orElse(0), logAllowed));
    }
    if (wide.containsKey("c")) {
      double widenedC = wide.get("c");
      b.append(String.format("note: c at '%s' allows an error of %.3f, not %.3f: its standard "
          + "error (measured and predicted) is more than a quarter of the tolerance, so the "
          + "tolerance covers 4 standard errors%n", judgedTensor, widenedC, cTolerance));
    }
    b.append(weakNote());
    return b.toString();
  }

  /**
   * The largest c error over all layers, with the rows left out and why; "n/a" with the reason
   * when no row has a c error.
   */
  private String allLayersCError() {
    List<KernelMeasurement> without = rowsWithoutCError();
    if (without.isEmpty()) {
      return String.format("%.4f", maxCError());
    }
    List<String> at = without.stream().map(KernelMeasurement::tensor).distinct().toList();
    String why = String.format("%d row%s at %s ha%s no c error: the measured or predicted c "
        + "is not a number (a pair whose features there are all zero or not finite has no c)",
        without.size(), without.size() == 1 ? "" : "s",
        at.stream().map(t -> "'" + shorten(t) + "'").collect(
            java.util.stream.Collectors.joining(", ")), without.size() == 1 ? "s" : "ve");
    return without.size() == predictedRows().size() ? "n/a (" + why + ")"
        : String.format("%.4f (not counted: %s)", maxCError(), why);
  }

  /**
   * The plain statement of a weak pass: which allowances stayed wide, that the draws stopped at
   * the cost budget (when they did) and how many draws would narrow them; empty otherwise.
   */
  private String weakNote() {
    java.util.Map<String, Double> w = widenedAllowances();
    if (!passed || w.isEmpty()) {
      return "";
    }
    StringBuilder b = new StringBuilder("note: weak PASS: allowed ");
    String sep = "";
    for (java.util.Map.Entry<String, Double> e : w.entrySet()) {
      double base = switch (e.getKey()) {
        case "c" -> cTolerance;
        case "log_q" -> Math.log1p(qTolerance);
        default -> qTolerance;
      };
      b.append(sep).append(String.format("%s error %.3f (tolerance %.3f)",
          e.getKey().replace('_', ' '), e.getValue(), base));
      sep = ", ";
    }
    b.append(": errors up to these pass unseen");
    if (sampling.draws() > 0) {
      b.append(String.format("; %d weight draws were measured", sampling.draws()));
      if (drawsBudgetLimited()) {
        b.append(", the most the check's cost budget pays for");
      } else if (oneAtATime != null) {
        b.append(", and none were added: the examples went one at a time");
      }
      double ratio = KernelCheck.precisionRatio(sampling.cStandardError(),
          KernelCheck.SE_FRACTION * cTolerance, sampling.logQStandardError(),
          KernelCheck.SE_FRACTION * Math.log1p(qTolerance));
      if (ratio > 1) {
        b.append(String.format(" (--draws %d would narrow them to the tolerances)",
            (long) Math.ceil(sampling.draws() * ratio * ratio)));
      }
    }
    return b.append(String.format("%n")).toString();
  }

  /** The op a past-judged row's note names ("'gather' (GatherV2)"), or the note itself. */
  private static String opOf(String note) {
    int from = note.indexOf("past ");
    int to = note.indexOf(')', from);
    return from < 0 || to < 0 ? note : note.substring(from + 5, to + 1);
  }

  private static String shorten(String s) {
    return s.length() <= 40 ? s : "..." + s.substring(s.length() - 37);
  }
}
