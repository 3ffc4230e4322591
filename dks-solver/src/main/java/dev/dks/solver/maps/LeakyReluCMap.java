package dev.dks.solver.maps;

/**
 * The closed-form local C map of the normalized leaky ReLU {@code sqrt(2/(1+s^2)) LReLU_s}
 * (Zhang et al. 2022, TAT): {@code C_s(c) = c + k (sqrt(1 - c^2) - c arccos(c))} with {@code k =
 * (1-s)^2 / (pi (1 + s^2))}. Its Q map is the identity, C_s(0) = k, C_s'(c) = 1 - k arccos(c),
 * C_s'(1) = 1 and C_s''(c) = k / sqrt(1 - c^2), infinite at c = 1. Arguments are clamped to [-1,
 * 1] to absorb rounding.
 */
public final class LeakyReluCMap {
  private final double negativeSlope;
  private final double k;

  /** The map for negative slope s. */
  public LeakyReluCMap(double negativeSlope) {
    this.negativeSlope = negativeSlope;
    double oneMinus = 1 - negativeSlope;
    this.k = oneMinus * oneMinus / (Math.PI * (1 + negativeSlope * negativeSlope));
  }

  /** The negative slope s. */
  public double negativeSlope() {
    return negativeSlope;
  }

  /** k = (1-s)^2 / (pi (1+s^2)) = C_s(0). */
  public double k() {
    return k;
  }

  /** C_s(c). */
  public double apply(double c) {
    double x = Math.max(-1.0, Math.min(1.0, c));
    return x + k * (Math.sqrt(1 - x * x) - x * Math.acos(x));
  }

  /** C_s'(c) = 1 - k arccos(c). */
  public double slope(double c) {
    double x = Math.max(-1.0, Math.min(1.0, c));
    return 1 - k * Math.acos(x);
  }

  /** The output scale that normalizes the leaky ReLU: sqrt(2 / (1 + s^2)). */
  public double outputScale() {
    return Math.sqrt(2 / (1 + negativeSlope * negativeSlope));
  }
}
