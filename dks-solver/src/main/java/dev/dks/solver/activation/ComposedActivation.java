package dev.dks.solver.activation;

import java.util.Arrays;
import java.util.TreeSet;

/**
 * The composition {@code x -> outer(sign * inner(x))} of two activations with a sign between them:
 * what two activation layers compute per channel when the only linear op between them does not
 * mix channels (a Delta-initialized depthwise convolution multiplies each channel by a Haar-random
 * sign, +1 or -1). The kernel maps of such a pair are those of this one function of the first
 * layer's Gaussian pre-activation, not the composition of the two layers' maps: the second layer's
 * input is not Gaussian (see {@code dev.dks.solver.maps.SignAveragedMaps}).
 *
 * <p>Derivatives follow by the chain rule. Kinks are the inner activation's and the points where
 * {@code sign * inner(x)} crosses a kink of the outer one, found by a sign-change scan over
 * {@code |x| <= 40 / inputScaleMagnitude()} refined by bisection; where the inner activation is
 * flat exactly at an outer kink (ReLU after ReLU) the flat stretch adds no kink.
 */
public final class ComposedActivation implements Activation {
  private static final int SCAN_POINTS = 4001;
  private static final double SCAN_HALF_WIDTH = 40;

  private final Activation inner;
  private final Activation outer;
  private final double sign;
  /**
   * The kinks, found on first use (the parts are immutable); the quadratures ask for them on
   * every C map value.
   */
  private volatile double[] kinks;

  /**
   * {@code outer(sign * inner(x))}.
   *
   * @param inner the activation applied first
   * @param sign +1 or -1, the channel's factor between the two
   * @param outer the activation applied second
   */
  public ComposedActivation(Activation inner, double sign, Activation outer) {
    if (sign != 1.0 && sign != -1.0) {
      throw new IllegalArgumentException("sign must be +1 or -1, got " + sign);
    }
    this.inner = inner;
    this.outer = outer;
    this.sign = sign;
  }

  @Override
  public String id() {
    return outer.id() + "(" + (sign > 0 ? "+" : "-") + inner.id() + ")";
  }

  @Override
  public double value(double x) {
    return outer.value(sign * inner.value(x));
  }

  @Override
  public double derivative(double x) {
    return outer.derivative(sign * inner.value(x)) * sign * inner.derivative(x);
  }

  @Override
  public double secondDerivative(double x) {
    double[] i3 = new double[3];
    double[] o3 = new double[3];
    evaluateBoth(x, i3, o3);
    return o3[2] * i3[1] * i3[1] + o3[1] * sign * i3[2];
  }

  @Override
  public void evaluate(double x, double[] out3) {
    double[] i3 = new double[3];
    double[] o3 = new double[3];
    evaluateBoth(x, i3, o3);
    out3[0] = o3[0];
    out3[1] = o3[1] * sign * i3[1];
    out3[2] = o3[2] * i3[1] * i3[1] + o3[1] * sign * i3[2];
  }

  private void evaluateBoth(double x, double[] i3, double[] o3) {
    inner.evaluate(x, i3);
    outer.evaluate(sign * i3[0], o3);
  }

  @Override
  public double[] kinks() {
    double[] k = kinks;
    if (k == null) {
      k = findKinks();
      kinks = k;
    }
    return k.clone();
  }

  /** The kinks by the scan described on the class (thousands of evaluations of inner). */
  private double[] findKinks() {
    TreeSet<Double> k = new TreeSet<>();
    for (double v : inner.kinks()) {
      k.add(v);
    }
    double half = SCAN_HALF_WIDTH / inputScaleMagnitude();
    for (double target : outer.kinks()) {
      // a crossing is a strict sign change of sign * inner - target between the last nonzero
      // sample and the next: bisected when adjacent, exact when one zero sample lies between;
      // a longer run of zeros is a stretch where inner is flat at the kink, so the composition is
      // flat there too: its ends are inner kinks (added above) or points where inner has slope 0
      // (no jump), and no point inside is a kink. A zero between samples of one sign is a touch,
      // likewise no kink.
      double lastX = -half;
      double last = sign * inner.value(lastX) - target;
      int zeros = 0;
      double zeroX = Double.NaN;
      for (int i = 1; i < SCAN_POINTS; i++) {
        double x = -half + 2 * half * i / (SCAN_POINTS - 1);
        double f = sign * inner.value(x) - target;
        if (f == 0) {
          zeros++;
          zeroX = x;
          continue;
        }
        if (last != 0 && (f > 0) != (last > 0)) {
          if (zeros == 0) {
            k.add(bisect(target, lastX, x, last));
          } else if (zeros == 1) {
            k.add(zeroX);
          }
        }
        lastX = x;
        last = f;
        zeros = 0;
      }
    }
    return k.stream().mapToDouble(Double::doubleValue).toArray();
  }

  private double bisect(double target, double lo, double hi, double fLo) {
    for (int it = 0; it < 200 && hi - lo > 1e-15 * Math.max(1, Math.abs(lo)); it++) {
      double mid = 0.5 * (lo + hi);
      double f = sign * inner.value(mid) - target;
      if (f == 0) {
        return mid;
      }
      if ((f > 0) == (fLo > 0)) {
        lo = mid;
        fLo = f;
      } else {
        hi = mid;
      }
    }
    return 0.5 * (lo + hi);
  }

  @Override
  public Smoothness smoothness() {
    Smoothness a = inner.smoothness();
    Smoothness b = outer.smoothness();
    return a.ordinal() >= b.ordinal() ? a : b;
  }

  @Override
  public double inputScaleMagnitude() {
    return inner.inputScaleMagnitude() * Math.max(1.0, outer.inputScaleMagnitude());
  }

  @Override
  public String toString() {
    return id() + Arrays.toString(kinks());
  }
}
