package dev.dks.solver.solve;

import java.util.Locale;

/** The activation transformation method. */
public enum Method {
  /** Deep Kernel Shaping (Martens et al. 2021): C'(1) of the network equals zeta, C(0) = 0. */
  DKS,
  /** Tailored Activation Transformation (Zhang et al. 2022): C''(1) = tau, or C(0) = eta. */
  TAT,
  /** No transformation: the raw activations (for ablations and baselines). */
  UNTRANSFORMED;

  /** Parses {@code dks}, {@code tat} or {@code untransformed}, case-insensitive. */
  public static Method parse(String s) {
    try {
      return valueOf(s.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "unknown method '" + s + "': use DKS, TAT or UNTRANSFORMED", e);
    }
  }
}
