package dev.dks.trainers.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.model.Model;
import dev.dks.trainers.optim.LearningRateSchedule;
import dev.dks.trainers.optim.SgdOptimizer;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.TensorProto;

/** Training a small MLP: the loss falls, and a run is bit-reproducible for a seed. */
class TrainingRunTest {
  private static final int BATCH = 32;

  /** Three Gaussian clusters in R^4, well apart; returns {x, yOneHot} of one batch. */
  private static float[][] batch(Random r) {
    float[][] centers = {{3, 0, 0, 0}, {0, 3, 0, 0}, {0, 0, 3, 3}};
    float[] x = new float[BATCH * 4];
    float[] y = new float[BATCH * 3];
    for (int i = 0; i < BATCH; i++) {
      int c = r.nextInt(3);
      y[i * 3 + c] = 1;
      for (int j = 0; j < 4; j++) {
        x[i * 4 + j] = centers[c][j] + (float) (0.5 * r.nextGaussian());
      }
    }
    return new float[][] {x, y};
  }

  private static Map<String, TensorProto> train(long seed, double[] firstLast) {
    Model m = TestModels.mlp("relu", seed);
    Random r = new Random(seed);
    LearningRateSchedule lr = LearningRateSchedule.cosineWithWarmup(0.05, 20, 200);
    try (TrainingGraph tg = TrainingGraph.build(m,
        TrainingSpec.defaults().withOptimizer(SgdOptimizer.Kind.NESTEROV).withL2(1e-4))) {
      float[][] eval = batch(new Random(seed + 1000));
      firstLast[0] = tg.evaluate(eval[0], TestModels.mlpShape(BATCH), eval[1])[0];
      for (int step = 0; step < 200; step++) {
        float[][] b = batch(r);
        tg.step(b[0], TestModels.mlpShape(BATCH), b[1], lr.at(step), 0.9);
      }
      double[] last = tg.evaluate(eval[0], TestModels.mlpShape(BATCH), eval[1]);
      firstLast[1] = last[0];
      firstLast[2] = last[1];
      return tg.variables();
    }
  }

  @Test
  void lossFallsMoreThanFiveFold() {
    double[] fl = new double[3];
    train(1, fl);
    assertTrue(fl[1] * 5 < fl[0], "loss " + fl[0] + " -> " + fl[1]);
    assertTrue(fl[2] > 0.95, "accuracy " + fl[2]);
  }

  @Test
  void sameSeedGivesBitIdenticalVariables() {
    Map<String, TensorProto> a = train(2, new double[3]);
    Map<String, TensorProto> b = train(2, new double[3]);
    for (String k : a.keySet()) {
      assertArrayEquals(a.get(k).toByteArray(), b.get(k).toByteArray(), k);
    }
  }
}
