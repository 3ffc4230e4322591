package dev.dks.solver.activation;

/**
 * Leaky ReLU {@code phi(x) = x} for {@code x >= 0} and {@code s*x} for {@code x < 0}, with negative
 * slope s (the reference's untransformed default is 0.01). Its first derivative jumps at 0.
 */
public record LeakyRelu(double negativeSlope) implements Activation {
  /** The reference's default negative slope when the activation is used untransformed. */
  public static final double DEFAULT_NEGATIVE_SLOPE = 0.01;

  /** The identifier {@code "leaky_relu"}. */
  public static final String ID = "leaky_relu";

  @Override
  public String id() {
    return ID;
  }

  @Override
  public double value(double x) {
    return x >= 0 ? x : negativeSlope * x;
  }

  @Override
  public double derivative(double x) {
    return x >= 0 ? 1.0 : negativeSlope;
  }

  @Override
  public double secondDerivative(double x) {
    return 0.0;
  }

  @Override
  public double[] kinks() {
    return new double[] {0.0};
  }

  @Override
  public Smoothness smoothness() {
    return negativeSlope == 1.0 ? Smoothness.SMOOTH : Smoothness.FIRST_DERIVATIVE_JUMPS;
  }
}
