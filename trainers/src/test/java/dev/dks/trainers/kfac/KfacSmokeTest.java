package dev.dks.trainers.kfac;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.model.Model;
import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.graph.TrainingSpec;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** K-FAC fits a small separable problem: the loss falls well below its start in 30 steps. */
class KfacSmokeTest {
  @Test
  void trains() {
    Model m = ModelBuilder.build(ArchitectureSpec.builder(Architecture.MLP, 2).width(8)
        .input("1x1x4").classes(3).activation("tanh").seed(1).build()).model();
    int n = 32;
    Random r = new Random(3);
    float[] x = new float[n * 4];
    float[] y = new float[n * 3];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < 4; j++) {
        x[i * 4 + j] = (float) r.nextGaussian();
      }
      y[i * 3 + (x[i * 4] > 0 ? 0 : x[i * 4 + 1] > 0 ? 1 : 2)] = 1;
    }
    try (TrainingGraph tg = TrainingGraph.build(m, TrainingSpec.defaults()
        .withKfac(KfacOptions.tatRecipe().withPeriods(1, 5)))) {
      double first = Double.NaN;
      double last = Double.NaN;
      for (int s = 0; s < 30; s++) {
        double[] la = tg.step(s, x, new long[] {n, 1, 1, 4}, y, 0.3, 0.9);
        if (s == 0) {
          first = la[0];
        }
        last = la[0];
      }
      assertTrue(last < first * 0.7, first + " -> " + last);
    }
  }
}
