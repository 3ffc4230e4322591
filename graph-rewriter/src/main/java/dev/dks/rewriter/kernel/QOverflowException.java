package dev.dks.rewriter.kernel;

import dev.dks.solver.solve.ShapingException;

/**
 * A shaping that does not hold q: the kernel check's prediction of the shaped model has a q past
 * float32's range ({@link QOverflow}), so {@code dks verify} would measure NaN there. {@code dks
 * rewrite} refuses such a model (exit 2, nothing written) rather than write it.
 */
public final class QOverflowException extends ShapingException {
  private static final long serialVersionUID = 1L;

  /** The overflow found. */
  private final transient QOverflow overflow;

  /** The refusal for {@code overflow}, with what to do. */
  public QOverflowException(QOverflow overflow) {
    super(overflow.describe() + "; the model is not written: rewrite with --method TAT, or with "
        + "another --activation (one that reaches a smaller Q'(1), e.g. tanh)");
    this.overflow = overflow;
  }

  /** Where and how large. */
  public QOverflow overflow() {
    return overflow;
  }
}
