package dev.dks.solver.solve;

/**
 * An unknown of the local root solve, with the reference's "always try" start values and the range
 * of its uniform random start values ({@code dks-math.md} section 7.2).
 */
public enum Unknown {
  /** alpha: always try 1.0, 0.1; random in [0, 2]. */
  INPUT_SCALE(new double[] {1.0, 0.1}, 0.0, 2.0),
  /** beta: always try 0, 1, -1; random in [-3, 3]. */
  INPUT_SHIFT(new double[] {0.0, 1.0, -1.0}, -3.0, 3.0),
  /** delta: always try 0, 1, -1; random in [-3, 3]. */
  OUTPUT_SHIFT(new double[] {0.0, 1.0, -1.0}, -3.0, 3.0),
  /** leaky ReLU slope s: always try 0, 0.5; random in [0, 1]. */
  NEGATIVE_SLOPE(new double[] {0.0, 0.5}, 0.0, 1.0);

  private final double[] alwaysTry;
  private final double randomLow;
  private final double randomHigh;

  Unknown(double[] alwaysTry, double randomLow, double randomHigh) {
    this.alwaysTry = alwaysTry;
    this.randomLow = randomLow;
    this.randomHigh = randomHigh;
  }

  /** The start values tried first, in order. */
  public double[] alwaysTry() {
    return alwaysTry.clone();
  }

  /** Lower end of the random start range. */
  public double randomLow() {
    return randomLow;
  }

  /** Upper end of the random start range. */
  public double randomHigh() {
    return randomHigh;
  }
}
