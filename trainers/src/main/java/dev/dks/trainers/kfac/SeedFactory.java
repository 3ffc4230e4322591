package dev.dks.trainers.kfac;

import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * The per-example seeds of the statistics' backward pass at the logits, one {@code [B, K]}
 * tensor per backward pass, for each {@link FisherEstimation} (kfac.md 1.3). For softmax
 * cross-entropy the output Fisher is {@code diag(p) - p p^T = sum_k p_k (e_k - p)(e_k - p)^T},
 * which every mode estimates (or, {@link FisherEstimation#EXACT}, sums) through outer products of
 * its seeds.
 */
final class SeedFactory {
  private SeedFactory() {}

  static List<Operand<TFloat32>> seeds(Ops tf, FisherEstimation mode, Operand<TFloat32> logits,
      Operand<TFloat32> labels, Operand<TInt64> seed) {
    Operand<TFloat32> p = tf.withName("probabilities").nn.softmax(logits);
    int classes = Math.toIntExact(logits.shape().get(1));
    List<Operand<TFloat32>> out = new ArrayList<>();
    switch (mode) {
      case SAMPLED -> {
        Operand<TInt64> drawn = tf.withName("sampled_targets").random.statelessMultinomial(logits,
            tf.constant(1), seed);
        Operand<TFloat32> oneHot = tf.oneHot(tf.reshape(drawn, tf.constant(new int[] {-1})),
            tf.constant(classes), tf.constant(1f), tf.constant(0f));
        out.add(tf.math.sub(p, oneHot));
      }
      case CURVATURE_PROP -> {
        Operand<TFloat32> u = tf.random.statelessRandomUniform(tf.shape(logits), seed, TFloat32.class);
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
}
