package dev.dks.solver.activation;

import java.util.Arrays;
import java.util.Objects;
import java.util.function.DoubleUnaryOperator;

/**
 * A user-supplied activation: functions for phi, phi' and phi'', the points where any of them is
 * not smooth, and which derivative jumps there. The functions must be accurate: the solver's
 * residual checks trust them (a finite-difference check is available in the tests).
 */
public record CustomActivation(
    String id,
    DoubleUnaryOperator phi,
    DoubleUnaryOperator firstDerivative,
    DoubleUnaryOperator secondDerivativeFn,
    double[] kinkPoints,
    Smoothness smoothness)
    implements Activation {

  /** Validates and defensively copies the kink list (sorted ascending). */
  public CustomActivation {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(phi, "phi");
    Objects.requireNonNull(firstDerivative, "firstDerivative");
    Objects.requireNonNull(secondDerivativeFn, "secondDerivative");
    Objects.requireNonNull(smoothness, "smoothness");
    kinkPoints = kinkPoints == null ? new double[0] : kinkPoints.clone();
    Arrays.sort(kinkPoints);
    for (double k : kinkPoints) {
      if (!Double.isFinite(k)) {
        throw new IllegalArgumentException("activation '" + id + "': kink " + k + " is not finite");
      }
    }
    if (kinkPoints.length == 0 && smoothness != Smoothness.SMOOTH) {
      throw new IllegalArgumentException(
          "activation '" + id + "' says a derivative jumps (" + smoothness
              + ") but lists no kink: give the points where it jumps");
    }
  }

  /** A smooth user activation. */
  public static CustomActivation smooth(
      String id, DoubleUnaryOperator phi, DoubleUnaryOperator d1, DoubleUnaryOperator d2) {
    return new CustomActivation(id, phi, d1, d2, new double[0], Smoothness.SMOOTH);
  }

  @Override
  public double value(double x) {
    return phi.applyAsDouble(x);
  }

  @Override
  public double derivative(double x) {
    return firstDerivative.applyAsDouble(x);
  }

  @Override
  public double secondDerivative(double x) {
    return secondDerivativeFn.applyAsDouble(x);
  }

  @Override
  public double[] kinks() {
    return kinkPoints.clone();
  }
}
