package dev.dks.trainers.kfac;

import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * The per-example seeds of the statistics' backward pass at the logits, one {@code [B, K]}
 * tensor per backward pass, for each {@link FisherEstimation} (kfac.md 1.3). For softmax
 * cross-entropy the output Fisher is {@code diag(p) - p p^T = sum_k p_k (e_k - p)(e_k - p)^T},
 * which every mode estimates (or, {@link FisherEstimation#EXACT}, sums) through outer products of
 * its seeds.
 *
 * <p>Random draws are per <b>global</b> example: the uniforms are drawn for the whole global batch
 * of the step ({@code [options.seed, step]}) and each replica takes the rows of its examples, so
 * an example's sampled target does not depend on how the batch is split over replicas. Sampled
 * targets use the inverse CDF of the softmax ({@code y = #{k : cumsum(p)_k <= u}}).
 */
final class SeedFactory {
  private SeedFactory() {}

  static List<Operand<TFloat32>> seeds(Ops tf, FisherEstimation mode, Operand<TFloat32> logits,
      Operand<TFloat32> labels, Operand<TInt64> seed, Operand<TInt32> firstExample,
      Operand<TInt32> globalBatch) {
    Operand<TFloat32> p = tf.withName("probabilities").nn.softmax(logits);
    int classes = Math.toIntExact(logits.shape().get(1));
    List<Operand<TFloat32>> out = new ArrayList<>();
    switch (mode) {
      case SAMPLED -> {
        Operand<TFloat32> u = uniform(tf, seed, firstExample, globalBatch, logits, 1);
        Operand<TFloat32> cdf = tf.math.cumsum(p, tf.constant(1));
        Operand<TInt32> drawn = tf.withName("sampled_targets").math.minimum(tf.reduceSum(
            tf.dtypes.cast(tf.math.lessEqual(cdf, u), TInt32.class), tf.constant(1)),
            tf.constant(classes - 1));
        Operand<TFloat32> oneHot = tf.oneHot(drawn, tf.constant(classes), tf.constant(1f),
            tf.constant(0f));
        out.add(tf.math.sub(p, oneHot));
      }
      case CURVATURE_PROP -> {
        Operand<TFloat32> u = uniform(tf, seed, firstExample, globalBatch, logits, classes);
        Operand<TFloat32> r = tf.math.sign(tf.math.sub(u, tf.constant(0.5f)));
        Operand<TFloat32> sp = tf.math.mul(tf.math.sqrt(p), r);
        Operand<TFloat32> proj = tf.reduceSum(tf.math.mul(tf.math.sqrt(p), r),
            tf.constant(new int[] {1}), org.tensorflow.op.core.ReduceSum.keepDims(true));
        out.add(tf.math.sub(sp, tf.math.mul(p, proj)));
      }
      case EMPIRICAL -> out.add(tf.math.sub(p, labels));
      case EXACT -> {
        for (int k = 0; k < classes; k++) {
          float[] e = new float[classes];
          e[k] = 1f;
          Operand<TFloat32> pk = tf.slice(p, tf.constant(new int[] {0, k}),
              tf.constant(new int[] {-1, 1}));
          out.add(tf.math.mul(tf.math.sqrt(pk), tf.math.sub(p, tf.constant(e))));
        }
      }
      default -> throw new AssertionError(mode);
    }
    return out;
  }

  /**
   * Uniforms in [0, 1) of shape {@code [local batch, width]}: rows {@code firstExample ...} of one
   * {@code [globalBatch, width]} stateless draw.
   */
  static Operand<TFloat32> uniform(Ops tf, Operand<TInt64> seed, Operand<TInt32> firstExample,
      Operand<TInt32> globalBatch, Operand<TFloat32> local, int width) {
    Operand<TInt32> rows = tf.gather(tf.shape(local), tf.constant(0), tf.constant(0));
    Operand<TFloat32> all = tf.random.statelessRandomUniform(tf.stack(List.of(globalBatch,
        tf.constant(width))), seed, TFloat32.class);
    return tf.slice(all, tf.stack(List.of(firstExample, tf.constant(0))),
        tf.stack(List.of(rows, tf.constant(width))));
  }
}
