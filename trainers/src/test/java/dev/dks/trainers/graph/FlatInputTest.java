package dev.dks.trainers.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * A model whose input is a flat {@code [batch, D]} (TF1 MLPs on MNIST take 784 pixels) trains on
 * image batches {@code [batch, H, W, C]} with {@code H x W x C = D}: each example is fed row-major
 * as its D values. Before, the trainer fed the 4-d batch into the 2-d placeholder and TF refused
 * every step (negative control: the builder's MLP takes [-1, 1, 1, 4], so is not flat).
 */
class FlatInputTest {
  @Test
  void imageBatchesFeedAFlatInputRowMajor() {
    // identityLinear: logits = x W with W = I (3x3), input [-1, 3]; one example of 3x1x1
    float[] x = {2f, 0f, 0f};
    float[] y = {1f, 0f, 0f};
    // closed form: cross-entropy of logits (2, 0, 0) for class 0 = log(e^2 + 2) - 2
    double expected = Math.log(Math.exp(2) + 2) - 2;
    try (TrainingGraph tg = TrainingGraph.build(TestModels.identityLinear(),
        TrainingSpec.defaults())) {
      assertTrue(tg.flatInput());
      assertEquals(expected, tg.evaluate(x, new long[] {1, 3, 1, 1}, y)[0], 1e-6);
      assertEquals(expected, tg.evaluate(x, new long[] {1, 1, 3, 1}, y)[0], 1e-6);
      assertEquals(expected, tg.evaluate(x, new long[] {1, 3}, y)[0], 1e-6);
      // a training step on the image batch runs and lowers this example's loss
      double before = tg.trainingLoss(x, new long[] {1, 3, 1, 1}, y)[0];
      tg.step(x, new long[] {1, 3, 1, 1}, y, 0.5, 0);
      double after = tg.trainingLoss(x, new long[] {1, 3, 1, 1}, y)[0];
      assertEquals(expected, before, 1e-6);
      assertTrue(after < before, before + " -> " + after);
    }
  }

  @Test
  void anImageInputIsNotFlat() {
    try (TrainingGraph tg = TrainingGraph.build(TestModels.mlp("tanh", 1), TrainingSpec.defaults())) {
      assertFalse(tg.flatInput());
    }
  }
}
