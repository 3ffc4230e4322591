package dev.dks.rewriter.kernel;

/**
 * How many weight draws and input pairs a kernel check measured, and how precisely that
 * determines c and log q where the verdict looks ({@link KernelCheck}'s sequential rule).
 *
 * @param draws weight draws averaged (the model's own weights, then Haar-rotated copies), the
 *     added ones included
 * @param pairsPerDraw input pairs per input c value in each draw of the width rule (or of the
 *     given count)
 * @param addedDraws draws the sequential rule added
 * @param addedPairsPerDraw input pairs per input c value in each added draw (0 when none)
 * @param cStandardError the largest standard error of the mean c over the draws at a judged
 *     tensor (over the input c values and checked outputs): the sample standard deviation of
 *     the draws' mean c over the square root of the draw count; NaN with a single draw
 * @param rule how the draw count was chosen: {@code "given"} (an explicit count), {@code
 *     "widths"} (the width rule and the rotation budget), {@code "precision"} (draws added until
 *     the standard errors reached their targets) or {@code "cost cap"} (draws added until the
 *     cost cap, a target not reached)
 * @param logQStandardError as {@code cStandardError} for the draws' mean log q, where q is judged
 *     by log q (NaN where it is not, or with a single draw)
 * @param drawCap the most draws the sequential rule's cost cap allowed ({@link
 *     KernelCheck#sequentialCap}); equal to {@code draws} when it added none because none was
 *     affordable or the count was given
 */
public record KernelSampling(int draws, int pairsPerDraw, int addedDraws, int addedPairsPerDraw,
    double cStandardError, String rule, double logQStandardError, int drawCap) {
  /** A report built without sampling information (e.g. by hand). */
  public static final KernelSampling UNKNOWN =
      new KernelSampling(0, 0, 0, 0, Double.NaN, "unknown");

  /** Sampling without a log q standard error, the cap at {@code draws}. */
  public KernelSampling(int draws, int pairsPerDraw, int addedDraws, int addedPairsPerDraw,
      double cStandardError, String rule) {
    this(draws, pairsPerDraw, addedDraws, addedPairsPerDraw, cStandardError, rule, Double.NaN,
        draws);
  }

  /** Input pairs per input c value over all draws. */
  public int pairs() {
    return (draws - addedDraws) * pairsPerDraw + addedDraws * addedPairsPerDraw;
  }

  /**
   * Whether the draws stopped at a cost limit rather than at the targets or a given count: the
   * sequential rule ran into its cap, or could not add any draw ({@code drawCap} at the width
   * rule's count).
   */
  public boolean budgetLimited() {
    return rule.equals("cost cap") || (rule.equals("widths") && drawCap <= draws);
  }
}
