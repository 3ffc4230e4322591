package dev.dks.trainers.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.model.Model;
import dev.dks.trainers.optim.SgdOptimizer;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;

/**
 * A BN-ResNet trains with the default trainable set: every float variable but the moving mean and
 * variance of each FusedBatchNormV3 (counted from the graph: two per BN node), in inference form
 * (BN as a fixed per-channel affine map) and in training mode (batch statistics).
 */
class BatchNormTrainingTest {
  @Test
  void movingStatisticsAreNotTrainedAndBothModesStep() {
    Model m = ModelBuilder.build(ArchitectureSpec.builder(Architecture.RESNET, 18).width(4)
        .input("8x8x1").classes(3).batchNorm(true).activation("relu").seed(1).build()).model();
    long bn = m.graph().getNodeList().stream()
        .filter(n -> n.getOp().equals("FusedBatchNormV3")).count();
    long floats = m.variables().values().stream()
        .filter(t -> t.getDtype() == DataType.DT_FLOAT).count();
    assertTrue(bn > 0);
    int n = 6;
    float[] x = TestModels.gaussian(n * 64, 3);
    float[] y = TestModels.randomLabels(n, 3, 4);
    long[] shape = {n, 8, 8, 1};
    TrainingSpec spec = TrainingSpec.defaults().withOptimizer(SgdOptimizer.Kind.NESTEROV);
    for (Model model : new Model[] {m, BatchNormTraining.trainingMode(m)}) {
      try (TrainingGraph tg = TrainingGraph.build(model, spec)) {
        assertEquals(floats - 2 * bn, tg.trainableVariables().size());
        assertFalse(tg.trainableVariables().stream().anyMatch(v -> v.endsWith("moving_mean")
            || v.endsWith("moving_variance")));
        double before = tg.step(0, x, shape, y, 0.1, 0.9)[0];
        double after = tg.evaluate(x, shape, y)[0];
        assertTrue(Double.isFinite(before) && Double.isFinite(after));
        assertNotEquals(before, after, "one step changes the loss");
      }
    }
    // asking to train the moving statistics is refused, naming them
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TrainingGraph.build(m, spec.withTrainable(m.variables().keySet().stream()
            .toList())).close());
    assertTrue(e.getMessage().contains("moving_mean"), e.getMessage());
  }
}
