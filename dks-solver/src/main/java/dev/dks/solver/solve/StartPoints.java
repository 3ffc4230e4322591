package dev.dks.solver.solve;

import java.util.ArrayList;
import java.util.List;

/**
 * The reference's ordered start points for a root solve: the Cartesian product of the unknowns'
 * "always try" values (first unknown varying slowest), then uniform random points drawn from a
 * MT19937 generator seeded with 123 (one draw per unknown, in unknown order) up to {@value
 * #TOTAL} points in all.
 */
public final class StartPoints {
  /** Number of start points in all. */
  public static final int TOTAL = 50;
  /** The reference's seed, reset before each activation's solve. */
  public static final long SEED = 123;

  private StartPoints() {}

  /** The {@value #TOTAL} start points for the given unknowns. */
  public static List<double[]> forUnknowns(List<Unknown> unknowns) {
    List<double[]> points = new ArrayList<>();
    grid(unknowns, 0, new double[unknowns.size()], points);
    MersenneTwister rng = new MersenneTwister(SEED);
    while (points.size() < TOTAL) {
      double[] p = new double[unknowns.size()];
      for (int i = 0; i < p.length; i++) {
        Unknown u = unknowns.get(i);
        p[i] = rng.uniform(u.randomLow(), u.randomHigh());
      }
      points.add(p);
    }
    return points.size() > TOTAL ? points.subList(0, TOTAL) : points;
  }

  private static void grid(List<Unknown> unknowns, int i, double[] cur, List<double[]> out) {
    if (i == unknowns.size()) {
      out.add(cur.clone());
      return;
    }
    for (double v : unknowns.get(i).alwaysTry()) {
      cur[i] = v;
      grid(unknowns, i + 1, cur, out);
    }
  }
}
