package dev.dks.rewriter.kernel;

import dev.dks.rewriter.model.Model;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The kernel check's measurement: sends the input pairs through the network chunk by chunk
 * ({@link PairChunks}) and accumulates, per measured tensor and input c value, the sums over the
 * pairs of the pair's q ({@code (|a|^2 + |b|^2) / (2 F)}) and c ({@code a.b / (|a| |b|)}) at
 * location 0, from the per-pair sums TensorFlow reduced ({@link PairStatistics}).
 *
 * <p>The pairs are drawn in the order input c, then pair index, from one generator seeded with
 * the options' seed ({@link InputPairs}), so the numbers do not depend on the chunk size.
 */
final class PairSums {
  private final double[][] q;
  private final double[][] c;
  private final long[] widths;
  private final int pairs;

  private PairSums(int nodes, int cs, int pairs) {
    this.q = new double[nodes][cs];
    this.c = new double[nodes][cs];
    this.widths = new long[nodes];
    this.pairs = pairs;
  }

  /**
   * Measures {@code measured} (node names, output 0) with the pairs fed at {@code feedNode}
   * (static shape {@code shape}, batch first).
   */
  static PairSums measure(Model model, String feedNode, long[] shape, List<String> measured,
      KernelCheck.Options o, long budgetBytes) {
    int k = o.inputCs().length;
    int total = k * o.pairs();
    PairSums out = new PairSums(measured.size(), k, o.pairs());
    try (PairStatistics st = new PairStatistics(model, feedNode, shape, measured)) {
      int chunk = PairChunks.pairsPerChunk(budgetBytes, st.largestActivation(), total);
      int f = st.features();
      SplittableRandom rng = new SplittableRandom(o.seed());
      for (int start = 0; start < total; start += chunk) {
        int n = Math.min(chunk, total - start);
        float[] rows = new float[2 * n * f];
        for (int p = 0; p < n; p++) {
          int ci = (start + p) / o.pairs();
          double[][] pair = InputPairs.withCorrelation(f, o.inputCs()[ci], rng);
          for (int e = 0; e < 2; e++) {
            for (int j = 0; j < f; j++) {
              rows[(2 * p + e) * f + j] = (float) pair[e][j];
            }
          }
        }
        double[][] s = st.run(rows, n, start == 0 ? out.widths : null);
        for (int ni = 0; ni < s.length; ni++) {
          for (int p = 0; p < n; p++) {
            int ci = (start + p) / o.pairs();
            out.add(ni, ci, s[ni][3 * p], s[ni][3 * p + 1], s[ni][3 * p + 2]);
          }
        }
      }
    }
    return out;
  }

  private void add(int node, int ci, double qa, double qb, double ab) {
    q[node][ci] += (qa + qb) / (2.0 * widths[node]);
    c[node][ci] += ab / Math.sqrt(qa * qb);
  }

  /** Mean q over the pairs of input c number {@code ci} at measured tensor {@code node}. */
  double meanQ(int node, int ci) {
    return q[node][ci] / pairs;
  }

  /** Mean c over the pairs of input c number {@code ci} at measured tensor {@code node}. */
  double meanC(int node, int ci) {
    return c[node][ci] / pairs;
  }

  /** The feature width (last dimension) of measured tensor {@code node}. */
  long width(int node) {
    return widths[node];
  }
}
