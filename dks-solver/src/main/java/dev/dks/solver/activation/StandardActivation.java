package dev.dks.solver.activation;

import static dev.dks.solver.activation.SpecialFunctions.TWO_OVER_SQRT_PI;

/**
 * The parameter-free activations of the reference package with analytic phi, phi' and phi''
 * (formulas in {@code dks-math.md} section 6). The leaky ReLU has a parameter and lives in {@link
 * LeakyRelu}. Piecewise activations take their negative branch for {@code x < 0} strictly.
 */
public enum StandardActivation implements Activation {
  TANH("tanh", Smoothness.SMOOTH) {
    @Override
    public double value(double x) {
      return Math.tanh(x);
    }

    @Override
    public double derivative(double x) {
      double t = Math.tanh(x);
      return 1 - t * t;
    }

    @Override
    public double secondDerivative(double x) {
      double t = Math.tanh(x);
      return -2 * t * (1 - t * t);
    }

    @Override
    public void evaluate(double x, double[] o) {
      double t = Math.tanh(x);
      o[0] = t;
      o[1] = 1 - t * t;
      o[2] = -2 * t * o[1];
    }
  },
  SIGMOID("sigmoid", Smoothness.SMOOTH) {
    @Override
    public double value(double x) {
      return sigmoid(x);
    }

    @Override
    public double derivative(double x) {
      double s = sigmoid(x);
      return s * (1 - s);
    }

    @Override
    public double secondDerivative(double x) {
      double s = sigmoid(x);
      return s * (1 - s) * (1 - 2 * s);
    }

    @Override
    public void evaluate(double x, double[] o) {
      double s = sigmoid(x); // one exponential for all three (the values are the same)
      o[0] = s;
      o[1] = s * (1 - s);
      o[2] = s * (1 - s) * (1 - 2 * s);
    }
  },
  SOFTPLUS("softplus", Smoothness.SMOOTH) {
    @Override
    public double value(double x) {
      return Math.log1p(Math.exp(-Math.abs(x))) + Math.max(x, 0.0);
    }

    @Override
    public double derivative(double x) {
      return sigmoid(x);
    }

    @Override
    public double secondDerivative(double x) {
      double s = sigmoid(x);
      return s * (1 - s);
    }

    @Override
    public void evaluate(double x, double[] o) {
      double s = sigmoid(x);
      o[0] = value(x);
      o[1] = s;
      o[2] = s * (1 - s);
    }
  },
  ERF("erf", Smoothness.SMOOTH) {
    @Override
    public double value(double x) {
      return SpecialFunctions.erf(x);
    }

    @Override
    public double derivative(double x) {
      return TWO_OVER_SQRT_PI * Math.exp(-x * x);
    }

    @Override
    public double secondDerivative(double x) {
      return -2 * x * TWO_OVER_SQRT_PI * Math.exp(-x * x);
    }
  },
  ELU("elu", Smoothness.SECOND_DERIVATIVE_JUMPS, 0.0) {
    @Override
    public double value(double x) {
      return x >= 0 ? x : Math.expm1(x);
    }

    @Override
    public double derivative(double x) {
      return x >= 0 ? 1.0 : Math.exp(x);
    }

    @Override
    public double secondDerivative(double x) {
      return x >= 0 ? 0.0 : Math.exp(x);
    }
  },
  SELU("selu", Smoothness.FIRST_DERIVATIVE_JUMPS, 0.0) {
    @Override
    public double value(double x) {
      return SELU_LAMBDA * (x >= 0 ? x : SELU_ALPHA * Math.expm1(x));
    }

    @Override
    public double derivative(double x) {
      return SELU_LAMBDA * (x >= 0 ? 1.0 : SELU_ALPHA * Math.exp(x));
    }

    @Override
    public double secondDerivative(double x) {
      return x >= 0 ? 0.0 : SELU_LAMBDA * SELU_ALPHA * Math.exp(x);
    }
  },
  SWISH("swish", Smoothness.SMOOTH) {
    @Override
    public double value(double x) {
      return x * sigmoid(x);
    }

    @Override
    public double derivative(double x) {
      double s = sigmoid(x);
      return s + x * s * (1 - s);
    }

    @Override
    public double secondDerivative(double x) {
      double s = sigmoid(x);
      return s * (1 - s) * (2 + x * (1 - 2 * s));
    }

    @Override
    public void evaluate(double x, double[] o) {
      double s = sigmoid(x);
      o[0] = x * s;
      o[1] = s + x * s * (1 - s);
      o[2] = s * (1 - s) * (2 + x * (1 - 2 * s));
    }
  },
  GELU("gelu", Smoothness.SMOOTH) {
    @Override
    public double value(double x) {
      double u = GELU_C * (x + GELU_K * x * x * x);
      return 0.5 * x * (1 + Math.tanh(u));
    }

    @Override
    public double derivative(double x) {
      if (Math.abs(x) > GELU_SATURATION) {
        return x > 0 ? 1.0 : 0.0;
      }
      double u = GELU_C * (x + GELU_K * x * x * x);
      double t = Math.tanh(u);
      double du = GELU_C * (1 + 3 * GELU_K * x * x);
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du;
    }

    @Override
    public double secondDerivative(double x) {
      if (Math.abs(x) > GELU_SATURATION) {
        return 0.0;
      }
      double u = GELU_C * (x + GELU_K * x * x * x);
      double t = Math.tanh(u);
      double du = GELU_C * (1 + 3 * GELU_K * x * x);
      double ddu = 6 * GELU_K * GELU_C * x;
      double s = 1 - t * t;
      return s * du + 0.5 * x * s * (ddu - 2 * t * du * du);
    }
  },
  GELU_EXACT("gelu_exact", Smoothness.SMOOTH) {
    @Override
    public double value(double x) {
      return x * SpecialFunctions.normalCdf(x);
    }

    @Override
    public double derivative(double x) {
      return SpecialFunctions.normalCdf(x) + x * SpecialFunctions.normalPdf(x);
    }

    @Override
    public double secondDerivative(double x) {
      if (Math.abs(x) > 40) {
        return 0.0; // the density underflows first: exp(-800) * x^2 is 0
      }
      return SpecialFunctions.normalPdf(x) * (2 - x * x);
    }
  },
  RELU("relu", Smoothness.FIRST_DERIVATIVE_JUMPS, 0.0) {
    @Override
    public double value(double x) {
      return x >= 0 ? x : 0.0;
    }

    @Override
    public double derivative(double x) {
      return x >= 0 ? 1.0 : 0.0;
    }

    @Override
    public double secondDerivative(double x) {
      return 0.0;
    }
  },
  ATAN("atan", Smoothness.SMOOTH) {
    @Override
    public double value(double x) {
      return Math.atan(x);
    }

    @Override
    public double derivative(double x) {
      return 1 / (1 + x * x);
    }

    @Override
    public double secondDerivative(double x) {
      double d = 1 + x * x;
      return -2 * x / (d * d);
    }
  },
  ASINH("asinh", Smoothness.SMOOTH) {
    @Override
    public double value(double x) {
      return SpecialFunctions.asinh(x);
    }

    @Override
    public double derivative(double x) {
      return 1 / Math.sqrt(1 + x * x);
    }

    @Override
    public double secondDerivative(double x) {
      double d = 1 + x * x;
      return -x / (d * Math.sqrt(d));
    }
  },
  SOFTSIGN("softsign", Smoothness.SECOND_DERIVATIVE_JUMPS, 0.0) {
    @Override
    public double value(double x) {
      return x / (1 + Math.abs(x));
    }

    @Override
    public double derivative(double x) {
      double d = 1 + Math.abs(x);
      return 1 / (d * d);
    }

    @Override
    public double secondDerivative(double x) {
      double d = 1 + Math.abs(x);
      return (x >= 0 ? -2.0 : 2.0) / (d * d * d);
    }
  },
  BENTID("bentid", Smoothness.SMOOTH) {
    @Override
    public double value(double x) {
      return (Math.hypot(x, 1) - 1) / 2 + x;
    }

    @Override
    public double derivative(double x) {
      return x / (2 * Math.hypot(x, 1)) + 1;
    }

    @Override
    public double secondDerivative(double x) {
      double h = Math.hypot(x, 1);
      return 0.5 / (h * h * h);
    }
  },
  SQUARE("square", Smoothness.SMOOTH) {
    @Override
    public double value(double x) {
      return x * x;
    }

    @Override
    public double derivative(double x) {
      return 2 * x;
    }

    @Override
    public double secondDerivative(double x) {
      return 2.0;
    }
  },
  SIN("sin", Smoothness.SMOOTH) {
    @Override
    public double value(double x) {
      return Math.sin(x);
    }

    @Override
    public double derivative(double x) {
      return Math.cos(x);
    }

    @Override
    public double secondDerivative(double x) {
      return -Math.sin(x);
    }
  },
  COS("cos", Smoothness.SMOOTH) {
    @Override
    public double value(double x) {
      return Math.cos(x);
    }

    @Override
    public double derivative(double x) {
      return -Math.sin(x);
    }

    @Override
    public double secondDerivative(double x) {
      return -Math.cos(x);
    }
  };

  /** SELU's lambda (Klambauer et al. 2017). */
  public static final double SELU_LAMBDA = 1.0507009873554804934193349852946;
  /** SELU's alpha (Klambauer et al. 2017). */
  public static final double SELU_ALPHA = 1.6732632423543772848170429916717;

  private static final double GELU_C = Math.sqrt(2 / Math.PI);
  private static final double GELU_K = 0.044715;
  /** Beyond this |x| the tanh-GELU is x or 0 to double precision (tanh(u) = +-1 for u &gt; 20). */
  private static final double GELU_SATURATION = 30.0;

  private final String activationName;
  private final Smoothness smoothness;
  private final double[] kinks;

  StandardActivation(String name, Smoothness smoothness, double... kinks) {
    this.activationName = name;
    this.smoothness = smoothness;
    this.kinks = kinks;
  }

  @Override
  public String toString() {
    return activationName;
  }

  @Override
  public String id() {
    return activationName;
  }

  @Override
  public Smoothness smoothness() {
    return smoothness;
  }

  @Override
  public double[] kinks() {
    return kinks.clone();
  }

  /** Numerically stable logistic sigmoid. */
  static double sigmoid(double x) {
    if (x >= 0) {
      return 1 / (1 + Math.exp(-x));
    }
    double e = Math.exp(x);
    return e / (1 + e);
  }
}
