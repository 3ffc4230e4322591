package dev.dks.trainers.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.trainers.optim.SgdOptimizer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The update ops against a Java re-implementation of the formulas, from fetched gradients. */
class OptimizerStepTest {
  private static final int N = 8;
  private final Model model = TestModels.mlp("tanh", 5);
  private final float[] x = TestModels.gaussian(N * 4, 21);
  private final float[] y = TestModels.randomLabels(N, 3, 22);
  private final long[] shape = TestModels.mlpShape(N);

  @Test
  void oneSgdStepIsWMinusLrG() {
    float lr = 0.3f;
    try (TrainingGraph tg = TrainingGraph.build(model, TrainingSpec.defaults().withL2(1e-3))) {
      assertTrue(tg.slotVariables().isEmpty());
      Map<String, float[]> w0 = values(tg);
      Map<String, float[]> g = tg.gradients(x, shape, y);
      double[] before = tg.evaluate(x, shape, y);
      double[] la = tg.step(x, shape, y, lr, 0.9);
      assertEquals(before[0], la[0], 0, "step reports the loss before the update");
      Map<String, float[]> w1 = values(tg);
      for (String v : tg.trainableVariables()) {
        for (int i = 0; i < w0.get(v).length; i++) {
          assertEquals(w0.get(v)[i] - lr * g.get(v)[i], w1.get(v)[i], 0f, v + "[" + i + "]");
        }
      }
    }
  }

  @ParameterizedTest
  @EnumSource(value = SgdOptimizer.Kind.class, names = {"MOMENTUM", "NESTEROV"})
  void threeMomentumStepsMatchTheFormulas(SgdOptimizer.Kind kind) {
    float[] lrs = {0.2f, 0.1f, 0.05f};
    float[] mus = {0.9f, 0.8f, 0.95f};
    try (TrainingGraph tg = TrainingGraph.build(model,
        TrainingSpec.defaults().withOptimizer(kind))) {
      assertEquals(tg.trainableVariables().size(), tg.slotVariables().size());
      for (float[] s : values(tg, tg.slots())) {
        for (float f : s) {
          assertEquals(0f, f, 0f, "slots start at zero");
        }
      }
      Map<String, float[]> w = values(tg);
      Map<String, float[]> v = new HashMap<>();
      w.forEach((k, a) -> v.put(k, new float[a.length]));
      for (int step = 0; step < 3; step++) {
        Map<String, float[]> g = tg.gradients(x, shape, y);
        tg.step(x, shape, y, lrs[step], mus[step]);
        for (String name : tg.trainableVariables()) {
          float[] wv = w.get(name);
          float[] vv = v.get(name);
          float[] gv = g.get(name);
          for (int i = 0; i < wv.length; i++) {
            vv[i] = mus[step] * vv[i] + gv[i];
            float upd = kind == SgdOptimizer.Kind.MOMENTUM ? vv[i] : gv[i] + mus[step] * vv[i];
            wv[i] = wv[i] - lrs[step] * upd;
          }
        }
        Map<String, float[]> tfW = values(tg);
        List<float[]> tfV = values(tg, tg.slots());
        int k = 0;
        for (String name : tg.trainableVariables()) {
          for (int i = 0; i < w.get(name).length; i++) {
            float e = w.get(name)[i];
            assertEquals(e, tfW.get(name)[i], 1e-6f * Math.max(1, Math.abs(e)),
                kind + " step " + step + " " + name + "[" + i + "]");
            float ev = v.get(name)[i];
            assertEquals(ev, tfV.get(k)[i], 1e-6f * Math.max(1, Math.abs(ev)));
          }
          k++;
        }
      }
    }
  }

  static Map<String, float[]> values(TrainingGraph tg) {
    Map<String, float[]> out = new HashMap<>();
    tg.variables().forEach((k, t) -> out.put(k, TensorProtos.floats(t)));
    return out;
  }

  static List<float[]> values(TrainingGraph tg, Map<String, org.tensorflow.proto.TensorProto> m) {
    return m.values().stream().map(TensorProtos::floats).toList();
  }
}
