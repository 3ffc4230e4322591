package dev.dks.trainers.kfac;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.op.linalg.MatMul;
import org.tensorflow.op.linalg.SelfAdjointEig;
import org.tensorflow.op.linalg.TriangularSolve;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The small matrix computations K-FAC's blocks share, as TF ops on float32 square matrices: the
 * second moment of a row matrix, the bias-corrected moving average, pi-adjusted damping and damped
 * inverses (kfac.md sections 1.4-1.6).
 */
final class FactorOps {
  /** Weights below this count as "no statistics yet". */
  static final float TINY = 1e-30f;

  private FactorOps() {}

  /** {@code X^T X / rows}, symmetrized, for a {@code [rows, d]} matrix. */
  static Operand<TFloat32> secondMoment(Ops tf, Operand<TFloat32> x, Operand<TFloat32> rows) {
    Operand<TFloat32> m = tf.math.div(tf.linalg.matMul(x, x, MatMul.transposeA(true)), rows);
    return symmetrize(tf, m);
  }

  /** {@code (M + M^T) / 2}. */
  static Operand<TFloat32> symmetrize(Ops tf, Operand<TFloat32> m) {
    return tf.math.mul(tf.math.add(m, tf.linalg.transpose(m, tf.constant(new int[] {1, 0}))),
        tf.constant(0.5f));
  }

  /**
   * The bias-corrected moving average read back: {@code acc / w} (zero while {@code w == 0}).
   */
  static Operand<TFloat32> average(Ops tf, Variable<TFloat32> acc, Variable<TFloat32> weight) {
    return tf.math.div(acc, tf.math.maximum(weight, tf.constant(TINY)));
  }

  /** {@code acc = rho acc + batch}: the accumulator half of the bias-corrected EMA. */
  static Operand<TFloat32> accumulate(Ops tf, Variable<TFloat32> acc, Operand<TFloat32> batch,
      Operand<TFloat32> rho) {
    return tf.assign(acc, tf.math.add(tf.math.mul(rho, acc), batch));
  }

  /** {@code w = rho w + 1}: the weight half of the bias-corrected EMA. */
  static Operand<TFloat32> countBatch(Ops tf, Variable<TFloat32> weight, Operand<TFloat32> rho) {
    return tf.assign(weight, tf.math.add(tf.math.mul(rho, weight), tf.constant(1f)));
  }

  /** {@code tr(M) / dim(M)}. */
  static Operand<TFloat32> meanTrace(Ops tf, Operand<TFloat32> m, int dim) {
    return tf.math.div(tf.reduceSum(tf.linalg.matrixDiagPart(m, tf.constant(0),
        tf.constant(0f)), tf.constant(0)), tf.constant((float) dim));
  }

  /**
   * pi = sqrt(n_A / n_G), or 1 when either mean trace is not positive (a dead layer).
   */
  static Operand<TFloat32> pi(Ops tf, Operand<TFloat32> nA, Operand<TFloat32> nG) {
    Operand<TFloat32> zero = tf.constant(0f);
    Operand<TFloat32> ok = tf.dtypes.cast(tf.math.logicalAnd(tf.math.greater(nA, zero),
        tf.math.greater(nG, zero)), TFloat32.class);
    Operand<TFloat32> ratio = tf.math.div(tf.math.maximum(nA, tf.constant(TINY)),
        tf.math.maximum(nG, tf.constant(TINY)));
    return tf.math.add(tf.math.mul(ok, tf.math.sqrt(ratio)), tf.math.sub(tf.constant(1f), ok));
  }

  /** The identity matrix of size {@code dim}. */
  static Operand<TFloat32> identity(Ops tf, int dim) {
    return tf.linalg.matrixDiag(tf.fill(tf.constant(new int[] {dim}), tf.constant(1f)),
        tf.constant(0), tf.constant(dim), tf.constant(dim), tf.constant(0f));
  }

  /** {@code (M + delta I)^-1} of a symmetric PSD {@code M} by the chosen method. */
  static Operand<TFloat32> dampedInverse(Ops tf, Operand<TFloat32> m, Operand<TFloat32> delta,
      int dim, InverseMethod method) {
    Operand<TFloat32> eye = identity(tf, dim);
    Operand<TFloat32> damped = tf.math.add(m, tf.math.mul(delta, eye));
    if (method == InverseMethod.LU) {
      return tf.linalg.inv(damped);
    }
    // M = L L^T, Y = L^-1, M^-1 = Y^T Y
    Operand<TFloat32> l = tf.linalg.cholesky(damped);
    Operand<TFloat32> y = tf.linalg.triangularSolve(l, eye, TriangularSolve.lower(true));
    return tf.linalg.matMul(y, y, MatMul.transposeA(true));
  }

  /** Eigenvalues (clipped at 0) and eigenvectors (columns) of a symmetric {@code M}. */
  static Operand<TFloat32>[] eigen(Ops tf, Operand<TFloat32> m) {
    SelfAdjointEig<TFloat32> e = tf.linalg.selfAdjointEig(m, SelfAdjointEig.computeV(true));
    @SuppressWarnings("unchecked")
    Operand<TFloat32>[] out = new Operand[] {tf.math.maximum(e.e(), tf.constant(0f)), e.v()};
    return out;
  }

  /** {@code [0, 1, ..., rank - 1]}, the axes of a full reduction. */
  static Operand<TInt32> allAxes(Ops tf, int rank) {
    int[] axes = new int[rank];
    for (int i = 0; i < rank; i++) {
      axes[i] = i;
    }
    return tf.constant(axes);
  }

  /** A scalar int32 as float32. */
  static Operand<TFloat32> toFloat(Ops tf, Operand<TInt32> x) {
    return tf.dtypes.cast(x, TFloat32.class);
  }
}
