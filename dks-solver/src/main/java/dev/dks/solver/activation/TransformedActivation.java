package dev.dks.solver.activation;

import java.util.Arrays;

/**
 * The shaped activation {@code phi_hat(x) = gamma * (phi(alpha * x + beta) + delta)}. For the leaky
 * ReLU, the params' negative slope replaces the base activation's slope. Derivatives follow by the
 * chain rule; kinks move to {@code (k - beta) / alpha}.
 */
public final class TransformedActivation implements Activation {
  private final Activation base;
  private final ShapingParams params;
  private final double alpha;
  private final double beta;
  private final double delta;
  private final double gamma;

  /** Shapes {@code base} with {@code params}; a negative slope in params requires a leaky ReLU. */
  public TransformedActivation(Activation base, ShapingParams params) {
    if (params.negativeSlope().isPresent()) {
      if (!(base instanceof LeakyRelu)) {
        throw new IllegalArgumentException(
            "negative_slope is a parameter of leaky_relu only, not of '" + base.id() + "'");
      }
      base = new LeakyRelu(params.negativeSlope().getAsDouble());
    }
    this.base = base;
    this.params = params;
    this.alpha = params.inputScale();
    this.beta = params.inputShift();
    this.delta = params.outputShift();
    this.gamma = params.outputScale();
  }

  /** The untransformed activation (with the params' slope for leaky ReLU). */
  public Activation base() {
    return base;
  }

  /** The shaping parameters. */
  public ShapingParams params() {
    return params;
  }

  @Override
  public String id() {
    return base.id();
  }

  @Override
  public double value(double x) {
    return gamma * (base.value(alpha * x + beta) + delta);
  }

  @Override
  public double derivative(double x) {
    return gamma * alpha * base.derivative(alpha * x + beta);
  }

  @Override
  public double secondDerivative(double x) {
    return gamma * alpha * alpha * base.secondDerivative(alpha * x + beta);
  }

  @Override
  public void evaluate(double x, double[] out3) {
    base.evaluate(alpha * x + beta, out3);
    out3[0] = gamma * (out3[0] + delta);
    out3[1] = gamma * alpha * out3[1];
    out3[2] = gamma * alpha * alpha * out3[2];
  }

  @Override
  public double[] kinks() {
    if (alpha == 0.0) {
      return new double[0];
    }
    double[] k = base.kinks();
    for (int i = 0; i < k.length; i++) {
      k[i] = (k[i] - beta) / alpha;
    }
    Arrays.sort(k);
    return k;
  }

  @Override
  public Smoothness smoothness() {
    return alpha == 0.0 ? Smoothness.SMOOTH : base.smoothness();
  }

  @Override
  public double inputScaleMagnitude() {
    return Math.abs(alpha);
  }

  @Override
  public String toString() {
    return base.id() + params.asMap();
  }
}
