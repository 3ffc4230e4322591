package dev.dks.trainers.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorProtos;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.TensorProto;

/** TF's gradient of the training loss against central finite differences of the loss itself. */
class GradientCheckTest {

  @Test
  void gradientMatchesFiniteDifferences() {
    Model m = TestModels.mlp("tanh", 3);
    int n = 16;
    float[] x = TestModels.gaussian(n * 4, 11);
    float[] y = TestModels.randomLabels(n, 3, 12);
    long[] shape = TestModels.mlpShape(n);
    TrainingSpec spec = TrainingSpec.defaults().withL2(0.05).withLabelSmoothing(0.1);
    try (TrainingGraph tg = TrainingGraph.build(m, spec)) {
      assertEquals(m.variables().keySet().size(), tg.trainableVariables().size());
      Map<String, float[]> grads = tg.gradients(x, shape, y);
      Map<String, TensorProto> base = tg.variables();
      double h = 1e-2;
      for (String name : tg.trainableVariables()) {
        float[] w = TensorProtos.floats(base.get(name));
        long[] ws = TensorProtos.shape(base.get(name));
        float[] g = grads.get(name);
        double errSq = 0;
        double normSq = 0;
        double maxAbs = 0;
        for (float gi : g) {
          maxAbs = Math.max(maxAbs, Math.abs(gi));
        }
        for (int i = 0; i < w.length; i++) {
          double d1 = central(tg, name, w, ws, i, h, x, shape, y);
          double d2 = central(tg, name, w, ws, i, h / 2, x, shape, y);
          double fd = (4 * d2 - d1) / 3; // Richardson: truncation error O(h^4)
          errSq += (fd - g[i]) * (fd - g[i]);
          normSq += (double) g[i] * g[i];
          assertEquals(fd, g[i], 1e-3 * maxAbs + 1e-5, name + "[" + i + "]");
        }
        tg.assign(Map.of(name, base.get(name)));
        double rel = Math.sqrt(errSq / normSq);
        assertTrue(rel < 1e-3, name + ": relative error " + rel);
      }
    }
  }

  private static double central(TrainingGraph tg, String name, float[] w, long[] ws, int i,
      double h, float[] x, long[] shape, float[] y) {
    float[] p = w.clone();
    float orig = w[i];
    p[i] = (float) (orig + h);
    double hp = p[i] - orig; // the step actually representable in float32
    tg.assign(Map.of(name, TensorProtos.ofFloats(ws, p)));
    double up = tg.evaluate(x, shape, y)[0];
    p[i] = (float) (orig - h);
    double hm = orig - p[i];
    tg.assign(Map.of(name, TensorProtos.ofFloats(ws, p)));
    double down = tg.evaluate(x, shape, y)[0];
    return (up - down) / (hp + hm);
  }
}
