package dev.dks.solver.solve;

import dev.dks.solver.activation.Activation;
import dev.dks.solver.maps.LocalMaps;

/**
 * The local kernel quantities of one (shaped) activation at q = 1.
 *
 * @param q1 Q(1)
 * @param qSlope1 Q'(1)
 * @param c0 C(0)
 * @param cSlope0 C'(0)
 * @param cSlope1 C'(1)
 * @param cCurvature1 C''(1), +Infinity when phi' jumps
 */
public record KernelValues(
    double q1, double qSlope1, double c0, double cSlope0, double cSlope1, double cCurvature1) {

  /** The values of {@code phi} computed with the standard quadrature. */
  public static KernelValues of(Activation phi) {
    return of(LocalMaps.of(phi));
  }

  /** The values held by {@code maps}. */
  public static KernelValues of(LocalMaps maps) {
    return new KernelValues(maps.q1(), maps.qSlope1(), maps.c0(), maps.cSlope0(),
        maps.cSlope1(), maps.cCurvature1());
  }
}
