package dev.dks.trainers.kfac;

import static dev.dks.trainers.kfac.KfacFixtures.ConvGeom;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * K-FAC-reduce's per-example mean patch, computed without materializing patches (one average pool
 * of the padded input for stride 1, strided slices otherwise), against the mean over output locations of the brute-force padded
 * patches of {@link KfacFixtures#patches} (zeros where padded, trailing 1).
 */
class KfacMeanPatchTest {
  static List<ConvGeom> geometries() {
    return List.of(new ConvGeom(5, 4, 2, 3, 3, 3, 1, 1, "SAME"),
        new ConvGeom(6, 7, 3, 3, 3, 2, 2, 2, "SAME"),
        new ConvGeom(6, 6, 2, 2, 2, 2, 2, 1, "SAME"),
        new ConvGeom(7, 5, 2, 3, 2, 2, 2, 2, "VALID"),
        new ConvGeom(4, 4, 3, 1, 1, 2, 1, 1, "VALID"),
        // stride 1 takes the average-pool path: even kernels pad more at the end than the start
        new ConvGeom(5, 6, 2, 2, 2, 2, 1, 1, "SAME"),
        new ConvGeom(6, 5, 2, 3, 2, 2, 1, 1, "VALID"),
        new ConvGeom(5, 5, 2, 4, 4, 2, 1, 1, "SAME"));
  }

  @ParameterizedTest
  @MethodSource("geometries")
  void meanPatchEqualsBruteForce(ConvGeom q) {
    int b = 3;
    float[] x = KfacFixtures.gaussian(b * q.h() * q.w() * q.c(), 501, 1);
    RegisteredLayer layer = new RegisteredLayer(RegisteredLayer.Kind.CONV2D, "conv", "k", "b",
        "input:0", "conv:0", new long[] {q.kh(), q.kw(), q.c(), q.cout()},
        List.of((long) q.sh(), (long) q.sw()), q.padding(), q.locations());
    float[] got;
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> in = tf.placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, q.h(), q.w(), q.c())));
      var rows = Patches.meanRows(tf, layer, in);
      try (TFloat32 xt = KfacFixtures.tensor(x, b, q.h(), q.w(), q.c());
          Result r = s.runner().feed(in, xt).fetch(rows).run()) {
        TFloat32 t = (TFloat32) r.get(0);
        got = new float[(int) t.shape().size()];
        t.copyTo(org.tensorflow.ndarray.buffer.DataBuffers.of(got, false, false));
      }
    }
    int d = q.patchDim() + 1;
    assertEquals(b * d, got.length);
    for (int i = 0; i < b; i++) {
      double[][] p = KfacFixtures.patches(q, x, i);
      for (int j = 0; j < d; j++) {
        double mean = 0;
        for (double[] row : p) {
          mean += row[j] / p.length;
        }
        assertEquals(mean, got[i * d + j], 1e-5, q + " example " + i + " column " + j);
      }
    }
  }
}
