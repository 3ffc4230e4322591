package dev.dks.solver.activation;

/**
 * An elementwise activation function phi with analytic first and second derivatives.
 *
 * <p>Conventions: all functions are total on the real line and return finite doubles for finite
 * inputs (no overflow to NaN for large |x|). At a kink the one-sided value for {@code x >= kink} is
 * returned, matching the reference's convention that the negative branch of piecewise activations
 * (elu, selu, leaky_relu, relu) is taken for {@code x < 0} strictly. Dirac deltas of derivatives at
 * kinks are not represented by {@link #secondDerivative}; {@link #smoothness()} says which
 * derivative is discontinuous so that callers can treat such integrals as infinite.
 */
public interface Activation {

  /** The identifier used on the command line and in reports, e.g. {@code "tanh"}. */
  String id();

  /** phi(x). */
  double value(double x);

  /** phi'(x), the one-sided derivative for x &gt;= kink at a kink. */
  double derivative(double x);

  /** phi''(x), the one-sided second derivative for x &gt;= kink at a kink (deltas dropped). */
  double secondDerivative(double x);

  /**
   * The points where phi, phi' or phi'' is not smooth, sorted ascending; empty for smooth
   * activations. Quadrature rules split their panels here.
   */
  double[] kinks();

  /**
   * Order of the lowest derivative that jumps at a kink: {@link Smoothness#SMOOTH} when there are no
   * kinks.
   */
  Smoothness smoothness();

  /**
   * How strongly this activation compresses its input relative to its natural scale: |alpha| for
   * a shaped activation {@code phi(alpha x + beta)}, 1 otherwise. Quadrature rules shrink their
   * panels by this factor so that fast-varying integrands stay resolved.
   */
  default double inputScaleMagnitude() {
    return 1.0;
  }

  /** Evaluates phi, phi' and phi'' at once (override when they share work). */
  default void evaluate(double x, double[] out3) {
    out3[0] = value(x);
    out3[1] = derivative(x);
    out3[2] = secondDerivative(x);
  }
}
