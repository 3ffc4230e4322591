package dev.dks.rewriter.kernel;

import java.util.Iterator;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.ndarray.Shape;

/**
 * How many input pairs the kernel check sends through the network at once.
 *
 * <p>Formula: {@code pairs per chunk = clamp(floor(budget / (2 * LIVE_TENSORS * 4 * A)), 1,
 * total pairs)}, where {@code A} is the largest per-example element count of any batch-dependent
 * tensor in the graph (static shapes {@code [-1, d1, ..., dk]}: {@code A = d1 * ... * dk}), 4 the
 * bytes of a float32, 2 the examples of a pair and {@link #LIVE_TENSORS} the activations assumed
 * alive at once during the forward pass (an op's input and output plus a held branch or
 * workspace). The budget bounds TensorFlow's (native) activation memory of one chunk; the Java heap
 * holds only the fed rows ({@code 2 * pairs * features} floats) and three float64 sums per pair
 * per measured tensor. The default budget is {@link #DEFAULT_BUDGET_BYTES} (256 MiB): e.g. a
 * ResNet-50 at 224x224 ({@code A = 112 * 112 * 64}) runs 10 pairs per chunk, a 256-wide MLP all
 * pairs at once.
 */
final class PairChunks {
  /** Activations of one example assumed alive at once. */
  static final int LIVE_TENSORS = 4;

  /** The default memory budget of one chunk, bytes. */
  static final long DEFAULT_BUDGET_BYTES = 256L << 20;

  private PairChunks() {}

  /** Pairs per chunk for activations of {@code largest} elements per example. */
  static int pairsPerChunk(long budgetBytes, long largest, int totalPairs) {
    if (budgetBytes <= 0) {
      throw new IllegalArgumentException("the memory budget must be positive, got "
          + budgetBytes);
    }
    long perPair = 2L * LIVE_TENSORS * Float.BYTES * Math.max(1, largest);
    long n = budgetBytes / perPair;
    return (int) Math.max(1, Math.min(totalPairs, n));
  }

  /**
   * The largest per-example element count of a batch-dependent output in {@code g} (first
   * dimension unknown, all others known); 1 when there is none.
   */
  static long largestActivation(Graph g) {
    long max = 1;
    Iterator<GraphOperation> it = g.operations();
    while (it.hasNext()) {
      GraphOperation op = it.next();
      for (int i = 0; i < op.numOutputs(); i++) {
        Shape s = op.output(i).shape();
        if (s.isUnknown() || s.numDimensions() < 2 || s.size(0) != Shape.UNKNOWN_SIZE) {
          continue;
        }
        long n = 1;
        for (int d = 1; d < s.numDimensions() && n > 0; d++) {
          n = s.size(d) < 0 ? -1 : n * s.size(d);
        }
        max = Math.max(max, n);
      }
    }
    return max;
  }
}
