package dev.dks.trainers.kfac;

/**
 * Levenberg-Marquardt adaptation of K-FAC's damping (Martens and Grosse 2015, section 6.5;
 * kfac.md 1.9). Every {@code interval} steps the trainer compares the loss change of the update
 * on its own batch with the change K-FAC's quadratic model predicted,
 * {@code rho = (L(theta + delta) - L(theta)) / (grad . delta + delta^T (F + l2 I) delta / 2)}
 * (the model's curvature is the undamped K-FAC approximation plus the L2 term), and sets
 * {@code lambda *= omega} when {@code rho > 0.75}, {@code lambda /= omega} when {@code rho < 0.25}
 * or is not a number, with {@code omega = decay^interval}, then clips lambda to {@code [min, max]}.
 * Costs one extra forward pass every {@code interval} steps. The damping is a state variable, so
 * checkpoints and resume keep it. New damping values reach the cached inverses at their next
 * refresh.
 *
 * @param interval steps between adaptations (&gt;= 1)
 * @param decay per-step factor, in (0, 1)
 * @param min lower bound of lambda (&gt; 0)
 * @param max upper bound of lambda (&gt;= min)
 */
public record DampingAdaptation(int interval, double decay, double min, double max) {

  /** Validates. */
  public DampingAdaptation {
    if (interval < 1) {
      throw new IllegalArgumentException("damping adaptation interval must be >= 1: " + interval);
    }
    if (!(decay > 0 && decay < 1)) {
      throw new IllegalArgumentException("damping adaptation decay must be in (0, 1): " + decay);
    }
    if (!(min > 0) || !(max >= min) || Double.isInfinite(max)) {
      throw new IllegalArgumentException("damping bounds must satisfy 0 < min <= max < inf, got ["
          + min + ", " + max + "]");
    }
  }

  /** kfac-jax's values: every 5 steps, decay 0.9 (omega ~ 0.59), bounds [1e-6, 1000]. */
  public static DampingAdaptation standard() {
    return new DampingAdaptation(5, 0.9, 1e-6, 1000);
  }

  /** The multiplier per adaptation, {@code decay^interval}. */
  public double omega() {
    return Math.pow(decay, interval);
  }

  /** The damping after one adaptation with reduction ratio {@code rho}. */
  public double next(double lambda, double rho) {
    double out = lambda;
    if (Double.isNaN(rho) || rho < 0.25) {
      out = lambda / omega();
    } else if (rho > 0.75) {
      out = lambda * omega();
    }
    return Math.min(max, Math.max(min, out));
  }
}
