package dev.dks.solver.solve;

/**
 * DKS targets.
 *
 * @param zeta the network's maximal C'(1), {@code c_slope_1_target} in the reference; must be &gt;
 *     1; default 1.5
 * @param localQSlope each activation's Q'(1), {@code local_q_slope_target}; must be &gt; 0; default
 *     1 (only ablations change it)
 */
public record DksTargets(double zeta, double localQSlope) {
  /** Default zeta. */
  public static final double DEFAULT_ZETA = 1.5;
  /** Default local Q'(1) target. */
  public static final double DEFAULT_LOCAL_Q_SLOPE = 1.0;

  /** Validates the targets. */
  public DksTargets {
    if (!(zeta > 1) || !Double.isFinite(zeta)) {
      throw new InvalidTargetException("DKS needs zeta (the C'(1) target) > 1, got " + zeta
          + ": use e.g. the default 1.5");
    }
    if (!(localQSlope > 0) || !Double.isFinite(localQSlope)) {
      throw new InvalidTargetException("the local Q'(1) target must be > 0, got " + localQSlope
          + ": use the default 1.0");
    }
  }

  /** The defaults (zeta 1.5, local Q slope 1). */
  public static DksTargets defaults() {
    return new DksTargets(DEFAULT_ZETA, DEFAULT_LOCAL_Q_SLOPE);
  }

  /** zeta with the default local Q slope. */
  public static DksTargets ofZeta(double zeta) {
    return new DksTargets(zeta, DEFAULT_LOCAL_Q_SLOPE);
  }
}
