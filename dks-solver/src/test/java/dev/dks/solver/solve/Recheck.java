package dev.dks.solver.solve;

import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.LeakyRelu;
import dev.dks.solver.activation.ShapingParams;
import dev.dks.solver.network.Architectures;
import dev.dks.solver.network.ReferenceM;
import dev.dks.solver.network.Structure;
import dev.dks.solver.quadrature.IndependentGaussian;
import java.util.function.DoubleUnaryOperator;

/**
 * Independent re-computation of the DKS/TAT conditions of a solved activation: the shaped function
 * gamma (phi(alpha x + beta) + delta) is assembled here from the raw phi, phi', phi'' (themselves
 * checked against finite differences in the activation tests) and integrated with the composite
 * Boole rule of {@link IndependentGaussian} (no Gauss-Legendre, split at the transformed kinks,
 * step 2e-3 / max(1, |alpha|)). The network functions are closed forms or the transcription of the
 * reference's M in {@link ReferenceM}.
 */
final class Recheck {
  private Recheck() {}

  /** Local quantities of the shaped activation. */
  record Local(double mean, double q1, double qSlope1, double cSlope1, double cCurvature1) {
    double c0() {
      return mean * mean / q1;
    }
  }

  static Local local(Activation base, ShapingParams p) {
    Activation phi = p.negativeSlope().isPresent()
        ? new LeakyRelu(p.negativeSlope().getAsDouble()) : base;
    double a = p.inputScale();
    double b = p.inputShift();
    double d = p.outputShift();
    double g = p.outputScale();
    double[] raw = phi.kinks();
    double[] kinks = new double[raw.length];
    for (int i = 0; i < raw.length; i++) {
      kinks[i] = (raw[i] - b) / a;
    }
    double h = 2e-3 / Math.max(1, Math.abs(a));
    double[] m = IndependentGaussian.means((x, o) -> {
      double u = a * x + b;
      double v = g * (phi.value(u) + d);
      double v1 = g * a * phi.derivative(u);
      double v2 = g * a * a * phi.secondDerivative(u);
      o[0] = v;
      o[1] = v * v;
      o[2] = v * v1 * x;
      o[3] = v1 * v1;
      o[4] = v2 * v2;
    }, 5, kinks, h);
    return new Local(m[0], m[1], m[2], m[3] / m[1], m[4] / m[1]);
  }

  /** A network with independent closed forms for mu, kappa and M(0, C). */
  record Net(String name, Structure structure, DoubleUnaryOperator mu, DoubleUnaryOperator kappa,
      java.util.function.ToDoubleFunction<DoubleUnaryOperator> maxC0) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Net chain(int depth) {
    return new Net("chain" + depth, Architectures.plainChain(depth), x -> Math.pow(x, depth),
        x -> depth * x, r -> {
          double c = 0;
          for (int i = 0; i < depth; i++) {
            c = r.applyAsDouble(c);
          }
          return c;
        });
  }

  static Net resnet(int depth, double w) {
    return new Net("resnet" + depth + "v2w" + w, Architectures.resnet(depth, w, true),
        x -> ReferenceM.resnet(1.0, y -> x * y, depth, w, true),
        x -> ReferenceM.resnet(0.0, y -> x + y, depth, w, true),
        r -> ReferenceM.resnet(0.0, r, depth, w, true));
  }

  /** The TReLU C map derived from the arc-cosine kernel (LReLU_s = s x + (1-s) relu x). */
  static double treluC(double s, double cIn) {
    double c = Math.min(1, Math.max(-1, cIn));
    double relu = (Math.sqrt(1 - c * c) + (Math.PI - Math.acos(c)) * c)
        / (2 * Math.PI);
    return (s * s * c + s * (1 - s) * c + (1 - s) * (1 - s) * relu) / ((1 + s * s) / 2);
  }
}
