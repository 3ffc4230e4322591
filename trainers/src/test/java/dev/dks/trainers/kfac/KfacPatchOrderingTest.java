package dev.dks.trainers.kfac;

import static dev.dks.trainers.kfac.KfacFixtures.ConvGeom;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.model.TensorProtos;
import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.graph.TrainingSpec;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Conv patch ordering and the conv factors (kfac.md 8.2 item 6, 1.2). Independent sources: TF's
 * own {@code Conv2D} op (the product of {@link Patches#rows} with the row-major flattened HWIO
 * kernel must reproduce it), and a plain-Java double-precision direct convolution and patch
 * extraction in TF's SAME/VALID padding convention ({@link KfacFixtures#conv},
 * {@link KfacFixtures#patches}); the A factor is the brute-force double loop over examples and
 * output locations of the padded patches with the homogeneous 1, and the EXACT-mode G the
 * brute-force {@code (1/(B T)) sum_i sum_t sum_k p_ik q q^T}, {@code q = J_it^T (p_i - e_k)}, with
 * the Jacobian {@code J_it} of the logits w.r.t. the conv output at location t read off the
 * linear read-out weights.
 */
class KfacPatchOrderingTest {
  static Stream<ConvGeom> geometries() {
    return Stream.of(
        new ConvGeom(5, 5, 2, 3, 3, 3, 1, 1, "SAME"),
        new ConvGeom(6, 5, 2, 3, 3, 2, 2, 2, "SAME"),
        new ConvGeom(6, 6, 1, 2, 2, 2, 1, 1, "SAME"),
        new ConvGeom(5, 4, 2, 2, 3, 2, 2, 1, "SAME"),
        new ConvGeom(5, 5, 2, 3, 3, 2, 1, 1, "VALID"),
        new ConvGeom(6, 7, 2, 2, 2, 3, 2, 2, "VALID"),
        new ConvGeom(4, 4, 3, 1, 1, 2, 1, 1, "SAME"),
        new ConvGeom(5, 5, 3, 1, 1, 2, 2, 2, "SAME"));
  }

  @ParameterizedTest
  @MethodSource("geometries")
  void patchesTimesFlatKernelIsConv2d(ConvGeom q) {
    int b = 2;
    float[] x = KfacFixtures.gaussian(b * q.h() * q.w() * q.c(), 1, 1);
    float[] k = KfacFixtures.gaussian(q.kh() * q.kw() * q.c() * q.cout(), 2, 1);
    RegisteredLayer layer = new RegisteredLayer(RegisteredLayer.Kind.CONV2D, "conv", "kernel",
        "", "input:0", "conv:0", new long[] {q.kh(), q.kw(), q.c(), q.cout()},
        List.of((long) q.sh(), (long) q.sw()), q.padding(), q.locations());
    try (Graph g = new Graph(); Session s = new Session(g);
        TFloat32 xt = KfacFixtures.tensor(x, b, q.h(), q.w(), q.c());
        TFloat32 kt = KfacFixtures.tensor(k, q.kh(), q.kw(), q.c(), q.cout())) {
      Ops tf = Ops.create(g);
      Operand<TFloat32> xc = tf.constant(xt);
      Operand<TFloat32> kc = tf.constant(kt);
      Operand<TFloat32> conv = tf.reshape(tf.nn.conv2d(xc, kc,
          List.of(1L, (long) q.sh(), (long) q.sw(), 1L), q.padding()),
          tf.constant(new long[] {-1, q.cout()}));
      Operand<TFloat32> rows = Patches.rows(tf, layer, xc);
      Operand<TFloat32> prod = tf.linalg.matMul(rows,
          tf.reshape(kc, tf.constant(new long[] {-1, q.cout()})));
      try (Result r = s.runner().fetch(conv).fetch(prod).fetch(rows).run()) {
        float[] c = TensorProtos.floats(TensorProtos.fromTensor(r.get(0)));
        float[] p = TensorProtos.floats(TensorProtos.fromTensor(r.get(1)));
        float[] rw = TensorProtos.floats(TensorProtos.fromTensor(r.get(2)));
        int t = q.locations();
        assertEquals(b * t * q.cout(), c.length, "conv output size");
        assertEquals(b * t * q.patchDim(), rw.length, "patch matrix size");
        double errProd = 0;
        double errJava = 0;
        double errPatch = 0;
        for (int i = 0; i < b; i++) {
          double[][] ref = KfacFixtures.conv(q, x, i, k, new float[q.cout()]);
          double[][] pj = KfacFixtures.patches(q, x, i);
          for (int l = 0; l < t; l++) {
            for (int co = 0; co < q.cout(); co++) {
              int idx = (i * t + l) * q.cout() + co;
              errProd = Math.max(errProd, Math.abs(p[idx] - c[idx]));
              errJava = Math.max(errJava, Math.abs(ref[l][co] - c[idx]));
            }
            for (int j = 0; j < q.patchDim(); j++) {
              errPatch = Math.max(errPatch,
                  Math.abs(pj[l][j] - rw[(i * t + l) * q.patchDim() + j]));
            }
          }
        }
        assertTrue(errJava < 1e-4, "TF Conv2D vs Java conv " + errJava);
        assertTrue(errProd < 1e-4, "patches x flat kernel vs Conv2D " + errProd);
        assertEquals(0, errPatch, 0, "Patches.rows vs Java patch extraction");
      }
    }
  }

  @ParameterizedTest
  @MethodSource("geometries")
  void convFactorsMatchBruteForce(ConvGeom q) {
    int b = 3;
    int classes = 3;
    int t = q.locations();
    float[] x = KfacFixtures.gaussian(b * q.h() * q.w() * q.c(), 11, 1);
    float[] y = KfacFixtures.labels(b, classes, 12);
    float[] k = KfacFixtures.gaussian(q.kh() * q.kw() * q.c() * q.cout(), 13, 0.4);
    float[] bc = KfacFixtures.gaussian(q.cout(), 14, 0.3);
    float[] wr = KfacFixtures.gaussian(t * q.cout() * classes, 15, 0.5);
    float[] br = KfacFixtures.gaussian(classes, 16, 0.3);
    KfacOptions o = KfacOptions.tatRecipe().withEstimation(FisherEstimation.EXACT);
    try (TrainingGraph tg = TrainingGraph.build(KfacFixtures.convReadout(q, classes, k, bc, wr,
        br), TrainingSpec.defaults().withKfac(o))) {
      KfacFixtures.statistics(tg, x, new long[] {b, q.h(), q.w(), q.c()}, y, 1, 0, -1);
      double[][] a = KfacFixtures.factor(tg, 0, "a");
      double[][] g = KfacFixtures.factor(tg, 0, "g");
      int da = q.patchDim() + 1;
      assertEquals(da, a.length, "block0 is the conv layer");
      double[][] aRef = new double[da][da];
      double[][] gRef = new double[q.cout()][q.cout()];
      for (int i = 0; i < b; i++) {
        double[][] pt = KfacFixtures.patches(q, x, i);
        double[][] s = KfacFixtures.conv(q, x, i, k, bc);
        double[] z = new double[classes];
        for (int j = 0; j < classes; j++) {
          z[j] = br[j];
          for (int l = 0; l < t; l++) {
            for (int co = 0; co < q.cout(); co++) {
              z[j] += s[l][co] * wr[(l * q.cout() + co) * classes + j];
            }
          }
        }
        double[] p = KfacFixtures.softmax(z);
        for (int l = 0; l < t; l++) {
          for (int r = 0; r < da; r++) {
            for (int c = 0; c < da; c++) {
              aRef[r][c] += pt[l][r] * pt[l][c] / (b * t);
            }
          }
          for (int kk = 0; kk < classes; kk++) {
            double[] qv = new double[q.cout()];
            for (int co = 0; co < q.cout(); co++) {
              for (int j = 0; j < classes; j++) {
                qv[co] += wr[(l * q.cout() + co) * classes + j] * (p[j] - (j == kk ? 1 : 0));
              }
            }
            for (int r = 0; r < q.cout(); r++) {
              for (int c = 0; c < q.cout(); c++) {
                gRef[r][c] += p[kk] * qv[r] * qv[c] / (b * t);
              }
            }
          }
        }
      }
      double ea = KfacFixtures.relErr(a, aRef);
      double eg = KfacFixtures.relErr(g, gRef);
      System.out.printf("patch %s: A rel err %.2e, G rel err %.2e%n", q, ea, eg);
      assertTrue(ea < 1e-5, "A vs brute force: " + ea);
      assertTrue(eg < 1e-4, "G vs brute force: " + eg);
    }
  }
}
