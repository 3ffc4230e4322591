package dev.dks.solver.solve;

import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.LeakyRelu;
import dev.dks.solver.activation.StandardActivation;

/** How the solvers treat an activation: special cases of the reference by activation. */
enum ActivationKind {
  RELU,
  LEAKY_RELU,
  PERIODIC,
  GENERIC;

  static ActivationKind of(Activation a) {
    if (a == StandardActivation.RELU) {
      return RELU;
    }
    if (a instanceof LeakyRelu) {
      return LEAKY_RELU;
    }
    if (a == StandardActivation.SIN || a == StandardActivation.COS) {
      return PERIODIC;
    }
    return GENERIC;
  }

  /** Reduces a periodic activation's input shift into [0, 2 pi). */
  static double reduceShift(double beta) {
    double twoPi = 2 * Math.PI;
    double r = beta % twoPi;
    if (r < 0) {
      r += twoPi;
    }
    return r >= twoPi ? 0.0 : r;
  }
}
