package dev.dks.solver.solve;

/**
 * TAT targets.
 *
 * @param eta the network's maximal C(0) for leaky ReLU, {@code c_val_0_target}; in [0, 1]; default
 *     0.9
 * @param tau the network's maximal C''(1) for smooth activations, {@code c_curve_target}; &gt; 0;
 *     default 0.3
 * @param etaAuto the "auto" rule for leaky ReLU: when the network cannot reach {@code eta} (a
 *     shallow network: even ReLU, TReLU slope 0, gives a smaller C(0)), solve for the largest C(0)
 *     it reaches, {@link TatSolver#maxEta}, instead of refusing; false: eta is exact
 */
public record TatTargets(double eta, double tau, boolean etaAuto) {
  /** Default eta. */
  public static final double DEFAULT_ETA = 0.9;
  /** Default tau. */
  public static final double DEFAULT_TAU = 0.3;

  /** Validates the targets. */
  public TatTargets {
    if (!(eta >= 0 && eta <= 1)) {
      throw new InvalidTargetException("TAT needs eta (the C(0) target for leaky_relu) in [0, 1], "
          + "got " + eta + ": use e.g. the default 0.9");
    }
    if (!(tau > 0) || !Double.isFinite(tau)) {
      throw new InvalidTargetException("TAT needs tau (the C''(1) target) > 0, got " + tau
          + ": use e.g. the default 0.3");
    }
  }

  /** Exact targets (no auto rule). */
  public TatTargets(double eta, double tau) {
    this(eta, tau, false);
  }

  /** The defaults (eta 0.9, tau 0.3, exact). */
  public static TatTargets defaults() {
    return new TatTargets(DEFAULT_ETA, DEFAULT_TAU);
  }

  /** {@code eta = min(0.9, the largest the network reaches)}, tau as given. */
  public static TatTargets autoEta(double tau) {
    return new TatTargets(DEFAULT_ETA, tau, true);
  }
}
