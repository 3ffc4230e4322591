package dev.dks.solver.maps;

import dev.dks.solver.activation.Activation;
import dev.dks.solver.quadrature.GaussianNodes;
import dev.dks.solver.quadrature.GaussianQuadrature;

/**
 * The Gaussian moments of an activation that its local Q and C maps at q = 1 are made of, computed
 * from one evaluation of phi, phi', phi'' per node of one node set (z ~ N(0,1)). Centered moments
 * are accumulated around the mean in a second sweep over the stored values, so a nearly constant
 * phi loses no precision.
 *
 * @param mean m = E[phi(z)]
 * @param meanSquare E[phi(z)^2] = Q(1)
 * @param variance E[(phi(z) - m)^2], the Q(1) of phi shifted to mean zero
 * @param qSlopeMoment E[phi(z) phi'(z) z] = Q'(1)
 * @param centeredQSlopeMoment E[(phi(z) - m) phi'(z) z], the Q'(1) of phi shifted to mean zero
 * @param meanDerivative E[phi'(z)]
 * @param meanSquareDerivative E[phi'(z)^2]
 * @param meanSquareSecondDerivative E[phi''(z)^2] (without Dirac deltas at kinks)
 */
public record GaussianMoments(
    double mean,
    double meanSquare,
    double variance,
    double qSlopeMoment,
    double centeredQSlopeMoment,
    double meanDerivative,
    double meanSquareDerivative,
    double meanSquareSecondDerivative) {

  /** The moments of {@code phi} with the standard quadrature, split at phi's kinks. */
  public static GaussianMoments of(Activation phi) {
    return of(phi, GaussianQuadrature.standard());
  }

  /** The moments of {@code phi} with the given quadrature, split at phi's kinks. */
  public static GaussianMoments of(Activation phi, GaussianQuadrature quadrature) {
    GaussianNodes nodes = quadrature.nodes(phi.kinks(), phi.inputScaleMagnitude());
    double[] x = nodes.x();
    double[] w = nodes.w();
    int n = x.length;
    double[] f = new double[n];
    double[] fz = new double[n];
    double[] v = new double[3];
    double m = 0;
    double d = 0;
    double dd = 0;
    double ee = 0;
    for (int i = 0; i < n; i++) {
      phi.evaluate(x[i], v);
      double wi = w[i];
      f[i] = v[0];
      fz[i] = v[1] * x[i];
      m += wi * v[0];
      d += wi * v[1];
      dd += wi * v[1] * v[1];
      ee += wi * v[2] * v[2];
    }
    double mm = 0;
    double var = 0;
    double qs = 0;
    double cqs = 0;
    for (int i = 0; i < n; i++) {
      double wi = w[i];
      double c = f[i] - m;
      mm += wi * f[i] * f[i];
      var += wi * c * c;
      qs += wi * f[i] * fz[i];
      cqs += wi * c * fz[i];
    }
    return new GaussianMoments(m, mm, var, qs, cqs, d, dd, ee);
  }
}
