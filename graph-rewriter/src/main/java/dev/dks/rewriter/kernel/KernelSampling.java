package dev.dks.rewriter.kernel;

/**
 * How many weight draws and input pairs a kernel check measured, and how precisely that
 * determines c where the verdict looks ({@link KernelCheck}'s sequential rule).
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
 *     the standard error reached its target) or {@code "cost cap"} (draws added until the cost
 *     cap, the target not reached)
 */
public record KernelSampling(int draws, int pairsPerDraw, int addedDraws, int addedPairsPerDraw,
    double cStandardError, String rule) {
  /** A report built without sampling information (e.g. by hand). */
  public static final KernelSampling UNKNOWN =
      new KernelSampling(0, 0, 0, 0, Double.NaN, "unknown");

  /** Input pairs per input c value over all draws. */
  public int pairs() {
    return (draws - addedDraws) * pairsPerDraw + addedDraws * addedPairsPerDraw;
  }
}
