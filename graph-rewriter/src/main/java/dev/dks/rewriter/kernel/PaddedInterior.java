package dev.dks.rewriter.kernel;

import java.util.Set;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TType;

/**
 * Where the kernel check reads a padded tensor: its unpadded interior. A {@code Pad} (or {@code
 * PadV2}) output holds its input in the interior and constants (zeros for Pad) in the border.
 * The border locations carry no signal: q = 0 there and c is undefined (0/0), which the check
 * reported at every Pad when it read location 0 (the corner). The kernel maps are per-location
 * maps of the signal, and at initialization the convolutions after a Pad are Delta-initialized
 * (zero off the centre tap), so a padded zero never reaches an output unit's centre tap and
 * every unpadded location has the Pad's input values: the interior's q and c are the input's,
 * so a Pad is the identity for the kernel (a pass-through in the DAG) and is measured at its
 * first unpadded location, {@code t[p0, p1, ..., pr]} with {@code pi} the leading padding of
 * axis i. (With trained, non-Delta kernels the border does lower q near the edges; the check is
 * about initialization.) Chains of pads are followed back, each slice removing one pad's border.
 */
final class PaddedInterior {
  /** Ops whose output is the input with a constant border. */
  static final Set<String> PAD_OPS = Set.of("Pad", "PadV2");

  private PaddedInterior() {}

  /**
   * {@code t} without its padding when {@code op} (t's producer) is a pad, else {@code t}: the
   * slice that starts at the leading paddings and keeps the input's extent.
   */
  @SuppressWarnings("unchecked")
  static <T extends TType> Output<T> of(Ops tf, GraphOperation op, Output<T> t) {
    Output<T> out = t;
    while (PAD_OPS.contains(op.type()) && op.numInputs() >= 2) {
      Output<?> paddings = op.input(1);
      Operand<TInt32> p = paddings.dataType() == org.tensorflow.proto.DataType.DT_INT32
          ? (Operand<TInt32>) paddings
          : tf.dtypes.cast(paddings, TInt32.class);
      // begin = paddings[:, 0]; size = shape(input): the interior is exactly the pad's input
      Operand<TInt32> begin = tf.reshape(tf.slice(p, tf.constant(new int[] {0, 0}),
          tf.constant(new int[] {-1, 1})), tf.constant(new int[] {-1}));
      out = tf.slice(out, begin, tf.shape(op.input(0))).output();
      if (!(op.input(0).op() instanceof GraphOperation in)) {
        break;
      }
      op = in;
    }
    return out;
  }
}
