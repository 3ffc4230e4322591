package dev.dks.solver.activation;

/**
 * How smooth an activation is at its kinks; decides which kernel quantities are finite.
 *
 * <ul>
 *   <li>{@link #SMOOTH}: infinitely differentiable (tanh, gelu, ...).
 *   <li>{@link #SECOND_DERIVATIVE_JUMPS}: phi' continuous, phi'' jumps (elu, softsign). C''(1) is
 *       finite.
 *   <li>{@link #FIRST_DERIVATIVE_JUMPS}: phi' jumps (relu, leaky_relu, selu), so phi'' contains a
 *       Dirac delta and C''(1) = E[phi''^2] / Q(1) is infinite.
 * </ul>
 */
public enum Smoothness {
  SMOOTH,
  SECOND_DERIVATIVE_JUMPS,
  FIRST_DERIVATIVE_JUMPS;

  /** True when C''(1) of this activation is finite. */
  public boolean hasFiniteCurvature() {
    return this != FIRST_DERIVATIVE_JUMPS;
  }
}
