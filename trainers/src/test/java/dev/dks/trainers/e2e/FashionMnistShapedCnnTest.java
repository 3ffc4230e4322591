package dev.dks.trainers.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.builder.BuiltModel;
import dev.dks.rewriter.builder.Pooling;
import dev.dks.solver.solve.Method;
import dev.dks.trainers.data.DataSets;
import dev.dks.trainers.data.Dataset;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Issue 5's acceptance run: a 20-layer TAT-shaped (leaky_relu, i.e. TReLU) plain CNN of width 32
 * trained on the real Fashion-MNIST train part (standardized by its own statistics, label
 * smoothing 0.1, batch 128, Nesterov momentum 0.9, cosine schedule after a 10% linear warm-up)
 * reaches at least 85% accuracy on all 10,000 test images. About 1.5-2.5 minutes on 2 CPU cores.
 */
@Tag("slow")
class FashionMnistShapedCnnTest {
  private static final int DEPTH = 20;
  private static final int WIDTH = 32;
  /** About 3.2 epochs of 60,000 at batch 128. */
  private static final long STEPS = 1500;
  /** Peak learning rate (0.03 and up diverge or train worse with this net). */
  private static final double LR = 0.01;

  @Test
  void twentyLayerShapedCnnReaches85PercentOnTheFullTestSet() {
    Path cache = E2eSupport.cache("fashion-mnist/train-images-idx3-ubyte.gz",
        "fashion-mnist/train-labels-idx1-ubyte.gz", "fashion-mnist/t10k-images-idx3-ubyte.gz",
        "fashion-mnist/t10k-labels-idx1-ubyte.gz");
    long wall0 = System.nanoTime();
    Dataset trainRaw = DataSets.load("fashion-mnist", cache, DataSets.Part.TRAIN);
    Dataset testRaw = DataSets.load("fashion-mnist", cache, DataSets.Part.TEST);
    Dataset.ChannelStats stats = trainRaw.channelStats();
    Dataset train = trainRaw.standardized(stats);
    Dataset test = testRaw.standardized(stats);

    // Stride-2 convs at layers 4, 8, 12, 16: 28 -> 14 -> 7 -> 4 -> 2, cheap on 2 CPU cores.
    BuiltModel model = E2eSupport.plainCnn(DEPTH, WIDTH, "28x28x1", "leaky_relu", Method.TAT,
        Pooling.every(Pooling.Kind.STRIDED_CONV, 4), 0);
    System.out.println("model: " + model.spec().describe() + ", "
        + model.trainableParameterCount() + " parameters");
    E2eSupport.Result r = E2eSupport.trainAndEvaluate("fashion-mnist", model, train, test, 128,
        STEPS, LR, STEPS / 10, 0.1, 0, 1);
    double wall = (System.nanoTime() - wall0) / 1e9;
    System.out.println(r + String.format(java.util.Locale.ROOT, ", wall %.1f s", wall));
    assertTrue(r.testAccuracy() >= 0.85, r.toString());
  }
}
