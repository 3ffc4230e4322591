package dev.dks.trainers.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorProtos;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** L2 on kernels only, and label smoothing against closed forms. */
class LossTermsTest {

  @Test
  void l2DecaysKernelsButNotBiases() {
    Model m = TestModels.mlp("tanh", 7);
    int n = 8;
    float[] x = TestModels.gaussian(n * 4, 31);
    float[] y = TestModels.randomLabels(n, 3, 32);
    double l2 = 0.01;
    try (TrainingGraph plain = TrainingGraph.build(m, TrainingSpec.defaults());
        TrainingGraph decayed = TrainingGraph.build(m, TrainingSpec.defaults().withL2(l2))) {
      assertEquals(List.of("dense_0/kernel", "dense_1/kernel", "head/kernel"),
          decayed.kernelVariables());
      Map<String, float[]> g0 = plain.gradients(x, TestModels.mlpShape(n), y);
      Map<String, float[]> g1 = decayed.gradients(x, TestModels.mlpShape(n), y);
      for (String v : decayed.trainableVariables()) {
        float[] w = TensorProtos.floats(m.variables().get(v));
        boolean kernel = decayed.kernelVariables().contains(v);
        for (int i = 0; i < w.length; i++) {
          double expected = kernel ? 2 * l2 * w[i] : 0;
          assertEquals(expected, g1.get(v)[i] - g0.get(v)[i], 1e-6, v + "[" + i + "]");
        }
      }
    }
  }

  @Test
  void labelSmoothingOnConfidentExamples() {
    double eps = 0.1;
    float big = 30f;
    Model m = TestModels.identityLinear();
    float[] x = {big, 0, 0, big, 0, 0};
    long[] shape = {1, 3};
    float[] right = {1, 0, 0};
    float[] wrong = {0, 1, 0};
    double lse = Math.log1p(2 * Math.exp(-big)); // log-sum-exp(L, 0, 0) - L
    try (TrainingGraph tg = TrainingGraph.build(m,
        TrainingSpec.defaults().withLabelSmoothing(eps))) {
      double rightLoss = tg.evaluate(new float[] {big, 0, 0}, shape, right)[0];
      double wrongLoss = tg.evaluate(new float[] {big, 0, 0}, shape, wrong)[0];
      assertEquals(big * (2 * eps / 3) + lse, rightLoss, 1e-4 * big);
      assertEquals(big * (1 - eps / 3) + lse, wrongLoss, 1e-4 * big);
      assertEquals(1.0, tg.evaluate(new float[] {big, 0, 0}, shape, right)[1]);
      assertEquals(0.0, tg.evaluate(new float[] {big, 0, 0}, shape, wrong)[1]);
      double[] both = tg.evaluate(x, new long[] {2, 3}, new float[] {1, 0, 0, 0, 1, 0});
      assertEquals(0.5, both[1]);
    }
    try (TrainingGraph tg = TrainingGraph.build(m, TrainingSpec.defaults())) {
      assertEquals(lse, tg.evaluate(new float[] {big, 0, 0}, shape, right)[0], 1e-6);
      assertEquals(big + lse, tg.evaluate(new float[] {big, 0, 0}, shape, wrong)[0], 1e-4);
    }
  }
}
