package dev.dks.rewriter.kernel;

import dev.dks.rewriter.model.Model;
import java.util.List;
import java.util.SplittableRandom;
import org.tensorflow.exceptions.TensorFlowException;

/**
 * The kernel check's measurement: sends the input pairs through the network chunk by chunk
 * ({@link PairChunks}) and accumulates, per measured tensor and input c value, the sums over the
 * pairs of the pair's q ({@code (|a|^2 + |b|^2) / (2 F)}), its logarithm, and c ({@code a.b /
 * (|a| |b|)}) at location 0, from the per-pair sums TensorFlow reduced ({@link PairStatistics}).
 *
 * <p>The pairs are drawn in the order input c, then pair index, from one generator seeded with
 * the options' seed ({@link InputPairs}), so the numbers do not depend on the chunk size.
 *
 * <p>Fewer locations: the input holds the same vector at every location. When every spatial op
 * keeps a spatially constant tensor constant (convolutions whose kernels are zero off the centre
 * tap, as Delta-orthogonal initialization makes them; pooling; elementwise ops; global means),
 * every activation is spatially constant and its location-0 value does not depend on the
 * spatial size, so the network can be run on far fewer locations (e.g. 1x1 or 32x32 instead of
 * 224x224). This is not assumed but tested: the first chunk ({@link #VALIDATION_PAIRS} pairs)
 * runs at the model's own size, then at the candidate sizes {@link #REDUCED_SIZES} (each capped
 * per dimension by the model's size) from the smallest up, and the first candidate that runs and
 * gives every per-pair sum of every measured tensor to {@link #REDUCTION_TOLERANCE} (relative),
 * far below any kernel tolerance, is used for the other chunks; when none does (e.g. trained
 * kernels with border effects, a flatten to a fixed size) all chunks run at the model's size.
 */
final class PairSums {
  /** Spatial sizes per dimension tried for the chunks after the first, smallest first. */
  static final int[] REDUCED_SIZES = {1, 4, 16, 32};

  /** Pairs of the first chunk, run at both sizes when the sizes differ. */
  static final int VALIDATION_PAIRS = 4;

  /** Largest relative difference of a per-pair sum accepted between the two sizes. */
  static final double REDUCTION_TOLERANCE = 1e-4;

  private final double[][] q;
  private final double[][] c;
  private final double[][] logQ;
  private final long[] widths;
  private final int pairs;
  private long[] spatialUsed;

  private PairSums(int nodes, int cs, int pairs) {
    this.q = new double[nodes][cs];
    this.c = new double[nodes][cs];
    this.logQ = new double[nodes][cs];
    this.widths = new long[nodes];
    this.pairs = pairs;
  }

  /**
   * Measures {@code measured} (node names, output 0) with the pairs fed at {@code feedNode}
   * (static shape {@code shape}, batch first).
   */
  static PairSums measure(Model model, String feedNode, long[] shape, List<String> measured,
      KernelCheck.Options o, long budgetBytes) {
    return measure(model, feedNode, shape, measured, o, budgetBytes, null);
  }

  /**
   * As {@link #measure(Model, String, long[], List, KernelCheck.Options, long)}, running at
   * {@code knownSpatial} locations from the start without validating them, when not null: the
   * size an earlier measurement of a network with the same structure validated (the weight draws
   * of {@link WeightRotations} keep which taps are zero, so the reduction carries over).
   */
  static PairSums measure(Model model, String feedNode, long[] shape, List<String> measured,
      KernelCheck.Options o, long budgetBytes, long[] knownSpatial) {
    try (PairStatistics st = new PairStatistics(model, feedNode, shape, measured)) {
      return measure(st, o, budgetBytes, knownSpatial);
    }
  }

  /**
   * As {@link #measure(Model, String, long[], List, KernelCheck.Options, long, long[])}, with the
   * statistics of an already loaded model (whose variables hold the weights to measure): the
   * weight draws of one check share one graph and session.
   */
  static PairSums measure(PairStatistics st, KernelCheck.Options o, long budgetBytes,
      long[] knownSpatial) {
    int k = o.inputCs().length;
    int total = k * o.pairs();
    PairSums out = new PairSums(st.measured().size(), k, o.pairs());
    long largest = st.largestActivation();
    int chunk = PairChunks.pairsPerChunk(budgetBytes, largest, total);
    int f = st.features();
    long[] full = st.spatial();
    List<long[]> candidates = new java.util.ArrayList<>();
    for (int size : REDUCED_SIZES) {
      long[] c = reduced(full, size);
      if (!java.util.Arrays.equals(c, full)
          && candidates.stream().noneMatch(x -> java.util.Arrays.equals(x, c))) {
        candidates.add(c);
      }
    }
    out.spatialUsed = full;
    SplittableRandom rng = new SplittableRandom(o.seed());
    // not past a transposed convolution of constant size: oneDNN aborts on the mismatch
    boolean mayReduce = !candidates.isEmpty() && st.reducible();
    if (knownSpatial != null) {
      mayReduce = false;
    }
    if (knownSpatial != null && !java.util.Arrays.equals(knownSpatial, full)) {
      out.spatialUsed = knownSpatial.clone();
      long smaller = Math.max(1, largest * count(knownSpatial) / count(full));
      chunk = PairChunks.pairsPerChunk(budgetBytes, smaller, total);
    }
    for (int start = 0; start < total; ) {
      // the comparison of the two sizes needs only a few generic pairs at the full size
      int n = Math.min(start == 0 && mayReduce ? Math.min(chunk, VALIDATION_PAIRS) : chunk,
          total - start);
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
      double[][] s = st.run(rows, n, start == 0 ? out.widths : null, out.spatialUsed);
      if (start == 0 && n < total && mayReduce) {
        for (long[] c : candidates) {
          if (sameAt(st, rows, n, c, s)) {
            out.spatialUsed = c;
            // activations shrink about with the locations
            long smaller = Math.max(1, largest * count(c) / count(full));
            chunk = Math.max(n, PairChunks.pairsPerChunk(budgetBytes, smaller, total));
            break;
          }
        }
      }
      for (int ni = 0; ni < s.length; ni++) {
        for (int p = 0; p < n; p++) {
          int ci = (start + p) / o.pairs();
          out.add(ni, ci, s[ni][3 * p], s[ni][3 * p + 1], s[ni][3 * p + 2]);
        }
      }
      start += n;
    }
    return out;
  }

  /** Whether the same rows at {@code spatial} locations give the sums {@code want}. */
  private static boolean sameAt(PairStatistics st, float[] rows, int n, long[] spatial,
      double[][] want) {
    double[][] got;
    try {
      got = st.run(rows, n, null, spatial);
    } catch (TensorFlowException | IllegalArgumentException | IllegalStateException e) {
      return false; // e.g. a reshape to the model's own size
    }
    for (int i = 0; i < want.length; i++) {
      if (got[i].length != want[i].length) {
        return false;
      }
      for (int j = 0; j < want[i].length; j++) {
        double d = Math.abs(got[i][j] - want[i][j]);
        if (!(d <= REDUCTION_TOLERANCE * Math.abs(want[i][j]) || d == 0)) {
          return false;
        }
      }
    }
    return true;
  }

  private static long[] reduced(long[] spatial, int max) {
    long[] r = spatial.clone();
    for (int i = 0; i < r.length; i++) {
      r[i] = Math.min(r[i], max);
    }
    return r;
  }

  private static long count(long[] dims) {
    long n = 1;
    for (long d : dims) {
      n *= d;
    }
    return n;
  }

  /** The spatial dimensions the chunks after the first ran at. */
  long[] spatialUsed() {
    return spatialUsed.clone();
  }

  private void add(int node, int ci, double qa, double qb, double ab) {
    double pq = (qa + qb) / (2.0 * widths[node]);
    q[node][ci] += pq;
    c[node][ci] += ab / Math.sqrt(qa * qb);
    logQ[node][ci] += Math.log(pq);
  }

  /** Mean q over the pairs of input c number {@code ci} at measured tensor {@code node}. */
  double meanQ(int node, int ci) {
    return q[node][ci] / pairs;
  }

  /**
   * Mean over the pairs of input c number {@code ci} of log q at measured tensor {@code node}
   * (the pair's q as in {@link #meanQ}; -infinity when a pair's q is 0).
   */
  double meanLogQ(int node, int ci) {
    return logQ[node][ci] / pairs;
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
