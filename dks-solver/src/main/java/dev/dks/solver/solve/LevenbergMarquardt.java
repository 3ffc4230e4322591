package dev.dks.solver.solve;

/**
 * A local solver for square nonlinear systems F(x) = 0 in a few unknowns: Levenberg-Marquardt with
 * a forward-difference Jacobian (MINPACK's step {@code sqrt(eps) * |x_j|}, or
 * {@code sqrt(eps)} at 0), Broyden rank-one updates between recomputations, and an adaptive
 * damping {@code (J^T J + lambda * max(diag J^T J, floor)) dx = -J^T F}. Near a regular root it
 * takes Newton steps, so it converges to the root closest to the start, like the reference's
 * MINPACK {@code hybrd}; it gives up early when the residual stalls (no root nearby).
 *
 * <p>Success means {@code max |F| <= residualTolerance}; unlike the reference, a small step alone
 * never counts as success ({@code dks-math.md} section 7.2).
 *
 * <p>Kept rather than Hipparchus' {@code LevenbergMarquardtOptimizer} (MINPACK's lmder, a least
 * squares minimizer): run from the same ordered start points with the same forward-difference
 * Jacobian it returned another start or another root in 53 of 112 solves (14 activations, DKS and
 * TAT, chains of 1 to 50; e.g. TAT asinh on 50 layers input_scale 0.177 instead of 0.158, TAT
 * sigmoid start 22 instead of the reference's 50th), since it also converges from the symmetric
 * starts where the reference's hybrd stalls, and it used 2.5x the evaluations. Which root the
 * solve returns is part of matching the reference.
 */
public final class LevenbergMarquardt {
  private static final double SQRT_EPS = Math.sqrt(Math.ulp(1.0));

  private final double residualTolerance;
  private final int maxEvaluations;
  private final double divergenceBound;

  /**
   * @param residualTolerance success threshold on max |F|
   * @param maxEvaluations evaluation budget (the reference allows 200 (n + 1))
   * @param divergenceBound give up when some |x_j| exceeds this
   */
  public LevenbergMarquardt(double residualTolerance, int maxEvaluations, double divergenceBound) {
    this.residualTolerance = residualTolerance;
    this.maxEvaluations = maxEvaluations;
    this.divergenceBound = divergenceBound;
  }

  /** Solves from x0. */
  public RootResult solve(VectorFunction f, double[] x0) {
    int n = x0.length;
    double[] x = x0.clone();
    double[] fx = f.apply(x);
    int evals = 1;
    if (fx.length != n) {
      throw new IllegalArgumentException("system is not square: " + n + " unknowns, "
          + fx.length + " residuals");
    }
    double cost = sumSquares(fx);
    if (!Double.isFinite(cost)) {
      return new RootResult(x, fx, false, evals);
    }
    double lambda = 1e-3;
    int stalled = 0;
    double[][] jac = new double[n][n];
    boolean needJacobian = true;
    boolean exact = false;
    while (evals < maxEvaluations) {
      if (maxAbs(fx) <= residualTolerance) {
        return new RootResult(x, fx, true, evals);
      }
      if (needJacobian) {
        evals += n;
        if (!finiteDifferenceJacobian(f, x, fx, jac)) {
          return new RootResult(x, fx, false, evals);
        }
        needJacobian = false;
        if (!exact && evals == n + 1 && degenerate(jac, x)) {
          // singular at the start (e.g. beta = 0 for an odd activation): the reference's
          // hybrd makes no progress from such a point, so neither do we
          return new RootResult(x, fx, false, evals);
        }
        exact = true;
      }
      double[][] jtj = new double[n][n];
      double[] minusJtf = new double[n];
      double maxDiag = normalEquations(jac, fx, jtj, minusJtf);
      if (maxDiag == 0) {
        return new RootResult(x, fx, false, evals);
      }
      double[][] sys = new double[n][n];
      for (int a = 0; a < n; a++) {
        System.arraycopy(jtj[a], 0, sys[a], 0, n);
        sys[a][a] += lambda * Math.max(jtj[a][a], 1e-12 * maxDiag);
      }
      double[] dx = solveLinear(sys, minusJtf.clone());
      double[] xn = new double[n];
      double[] fn = null;
      double costN = Double.POSITIVE_INFINITY;
      if (dx != null) {
        for (int j = 0; j < n; j++) {
          xn[j] = x[j] + dx[j];
        }
        fn = f.apply(xn);
        evals++;
        costN = sumSquares(fn);
      }
      if (Double.isFinite(costN) && costN < cost) {
        boolean poor = costN > 0.9 * cost;
        stalled = poor ? stalled + 1 : 0;
        broydenUpdate(jac, dx, fx, fn);
        exact = false;
        needJacobian = poor; // a poor step asks for a recomputed Jacobian
        x = xn;
        fx = fn;
        cost = costN;
        lambda = Math.max(lambda / 10, 1e-12);
        if (maxAbs(x) > divergenceBound || stalled >= 8) {
          break;
        }
      } else if (!exact) {
        needJacobian = true; // recompute the Jacobian before damping harder
      } else {
        lambda *= 10;
        if (lambda > 1e16) {
          break;
        }
      }
    }
    return new RootResult(x, fx, maxAbs(fx) <= residualTolerance, evals);
  }

  /**
   * True when some Jacobian column, scaled by max(|x_j|, 1), is below 1e-6 of the largest: the
   * residuals do not depend on that unknown to first order (a symmetry point).
   */
  private static boolean degenerate(double[][] jac, double[] x) {
    int n = x.length;
    double[] norms = new double[n];
    double max = 0;
    for (int j = 0; j < n; j++) {
      double s = 0;
      for (int i = 0; i < n; i++) {
        s += jac[i][j] * jac[i][j];
      }
      norms[j] = Math.sqrt(s) * Math.max(Math.abs(x[j]), 1.0);
      max = Math.max(max, norms[j]);
    }
    for (double v : norms) {
      if (v < 1e-6 * max) {
        return true;
      }
    }
    return false;
  }

  /** Fills jac (column j = dF/dx_j) by forward differences; false if not finite. */
  private static boolean finiteDifferenceJacobian(
      VectorFunction f, double[] x, double[] fx, double[][] jac) {
    int n = x.length;
    boolean finite = true;
    for (int j = 0; j < n; j++) {
      double h = x[j] == 0 ? SQRT_EPS : SQRT_EPS * Math.abs(x[j]);
      double saved = x[j];
      x[j] = saved + h;
      h = x[j] - saved;
      double[] fh = f.apply(x);
      x[j] = saved;
      for (int i = 0; i < n; i++) {
        jac[i][j] = (fh[i] - fx[i]) / h;
        finite &= Double.isFinite(jac[i][j]);
      }
    }
    return finite;
  }

  /** J^T J into jtj, -J^T F into minusJtf; returns max diag(J^T J). */
  private static double normalEquations(
      double[][] jac, double[] fx, double[][] jtj, double[] minusJtf) {
    int n = fx.length;
    double maxDiag = 0;
    for (int a = 0; a < n; a++) {
      for (int b = 0; b < n; b++) {
        double s = 0;
        for (int i = 0; i < n; i++) {
          s += jac[i][a] * jac[i][b];
        }
        jtj[a][b] = s;
      }
      double s = 0;
      for (int i = 0; i < n; i++) {
        s += jac[i][a] * fx[i];
      }
      minusJtf[a] = -s;
      maxDiag = Math.max(maxDiag, jtj[a][a]);
    }
    return maxDiag;
  }

  /** Broyden's rank-one update J += (dF - J dx) dx^T / (dx^T dx). */
  private static void broydenUpdate(double[][] jac, double[] dx, double[] f0, double[] f1) {
    int n = dx.length;
    double dd = 0;
    for (double d : dx) {
      dd += d * d;
    }
    if (!(dd > 0)) {
      return;
    }
    for (int i = 0; i < n; i++) {
      double jdx = 0;
      for (int j = 0; j < n; j++) {
        jdx += jac[i][j] * dx[j];
      }
      double r = (f1[i] - f0[i] - jdx) / dd;
      for (int j = 0; j < n; j++) {
        jac[i][j] += r * dx[j];
      }
    }
  }

  private static double sumSquares(double[] v) {
    double s = 0;
    for (double d : v) {
      s += d * d;
    }
    return s;
  }

  private static double maxAbs(double[] v) {
    double m = 0;
    for (double d : v) {
      m = Math.max(m, Math.abs(d));
    }
    return m;
  }

  /** Gaussian elimination with partial pivoting; null when singular or not finite. */
  static double[] solveLinear(double[][] a, double[] b) {
    int n = b.length;
    for (int col = 0; col < n; col++) {
      int piv = col;
      for (int r = col + 1; r < n; r++) {
        if (Math.abs(a[r][col]) > Math.abs(a[piv][col])) {
          piv = r;
        }
      }
      if (!(Math.abs(a[piv][col]) > 0)) {
        return null;
      }
      double[] tmp = a[col];
      a[col] = a[piv];
      a[piv] = tmp;
      double tb = b[col];
      b[col] = b[piv];
      b[piv] = tb;
      for (int r = col + 1; r < n; r++) {
        double fct = a[r][col] / a[col][col];
        for (int c = col; c < n; c++) {
          a[r][c] -= fct * a[col][c];
        }
        b[r] -= fct * b[col];
      }
    }
    double[] xs = new double[n];
    for (int r = n - 1; r >= 0; r--) {
      double s = b[r];
      for (int c = r + 1; c < n; c++) {
        s -= a[r][c] * xs[c];
      }
      xs[r] = s / a[r][r];
      if (!Double.isFinite(xs[r])) {
        return null;
      }
    }
    return xs;
  }
}
