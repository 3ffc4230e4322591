package dev.dks.trainers.kfac;

import static dev.dks.trainers.kfac.KfacFixtures.ConvGeom;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.graph.TrainingSpec;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * kfac.md 8.1 item 4: a VALID conv whose kernel covers the whole input (T = 1) is a dense layer on
 * the flattened input. Independent source: a second model, the equivalent dense layer (kernel
 * reshaped row-major to {@code [kh kw c, cout]}) on the flattened inputs; its factors and its first
 * K-FAC update must equal the conv's.
 */
class KfacConvWholeInputTest {
  @ParameterizedTest
  @EnumSource(value = InverseMethod.class)
  void convWithFullKernelEqualsDense(InverseMethod method) {
    ConvGeom q = new ConvGeom(3, 2, 2, 3, 2, 3, 1, 1, "VALID");
    assertEquals(1, q.locations());
    int b = 5;
    int din = q.patchDim();
    float[] x = KfacFixtures.gaussian(b * din, 61, 1);
    float[] y = KfacFixtures.labels(b, q.cout(), 62);
    float[] kernel = KfacFixtures.gaussian(din * q.cout(), 63, 0.5);
    float[] bias = KfacFixtures.gaussian(q.cout(), 64, 0.3);
    KfacOptions o = KfacOptions.tatRecipe().withEstimation(FisherEstimation.EXACT)
        .withInverse(method).withNormConstraint(0).withDamping(1e-2);
    try (TrainingGraph conv = TrainingGraph.build(KfacFixtures.convOnly(q, kernel, bias),
            TrainingSpec.defaults().withKfac(o));
        TrainingGraph dense = TrainingGraph.build(KfacFixtures.dense(din, q.cout(), kernel, bias),
            TrainingSpec.defaults().withKfac(o))) {
      conv.step(0, x, new long[] {b, q.h(), q.w(), q.c()}, y, 0.5, 0);
      dense.step(0, x, new long[] {b, din}, y, 0.5, 0);
      double ea = KfacFixtures.relErr(KfacFixtures.factor(conv, 0, "a"),
          KfacFixtures.factor(dense, 0, "a"));
      double eg = KfacFixtures.relErr(KfacFixtures.factor(conv, 0, "g"),
          KfacFixtures.factor(dense, 0, "g"));
      double[] dc = KfacFixtures.stack(KfacFixtures.variable(conv, "kernel"),
          KfacFixtures.variable(conv, "bc"));
      double[] dd = KfacFixtures.stack(KfacFixtures.variable(dense, "w"),
          KfacFixtures.variable(dense, "b"));
      double[] w0 = KfacFixtures.stack(KfacFixtures.toDouble(kernel),
          KfacFixtures.toDouble(bias));
      for (int i = 0; i < w0.length; i++) {
        dc[i] -= w0[i];
        dd[i] -= w0[i];
      }
      double eu = KfacFixtures.relErr(dc, dd);
      System.out.printf("conv T=1 vs dense (%s): A %.2e, G %.2e, update %.2e%n", method, ea, eg,
          eu);
      assertTrue(ea < 1e-6, "A: " + ea);
      assertTrue(eg < 1e-5, "G: " + eg);
      assertTrue(eu < 1e-4, "first update: " + eu);
    }
  }
}
