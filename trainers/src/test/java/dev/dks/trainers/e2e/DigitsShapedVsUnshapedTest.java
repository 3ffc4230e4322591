package dev.dks.trainers.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.builder.BuiltModel;
import dev.dks.rewriter.builder.Pooling;
import dev.dks.solver.solve.Method;
import dev.dks.trainers.data.DataSets;
import dev.dks.trainers.data.Dataset;
import dev.dks.trainers.graph.TrainingSpec;
import dev.dks.trainers.kfac.KfacOptions;
import dev.dks.trainers.optim.LearningRateSchedule;
import dev.dks.trainers.optim.OptimizerDefaults;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * The fast real-data check: on the 8x8 digits (80/20 seeded split, standardized), a 20-layer
 * TAT-shaped plain CNN trained as {@code dks train} trains a shaped model with no optimizer flag
 * (K-FAC, {@link KfacOptions#defaults()}, {@link OptimizerDefaults#kfac()}: peak lr 1e-3, cosine
 * after a 10% warm-up, momentum 0.9, burn-in) beats 90% test accuracy, and the same architecture
 * unshaped (raw relu, the builder's default Delta-orthogonal init) under the same optimizer stays
 * at chance.
 *
 * <p>Until session 20 this test trained with Nesterov at peak lr 0.006, which on this net has loss
 * spikes (loss back from below 1 to 3-11) at any step of the run, so scaling the rate by
 * 1 +- 4e-6 moved seed 0's test accuracy between 0.19 and 0.975 (the shaped-SGD default 0.005:
 * 0.48-0.96; 0.003: 0.70-0.96). With the K-FAC defaults the same perturbations ended at
 * 0.98-0.997 (seed 0, oneDNN off and at AVX2; BENCHMARKS.md, "The digits end-to-end test at the
 * edge of stability"); through Maven 0.978 / 0.981 for seeds 0 / 1 (oneDNN off), 0.986 / 0.986
 * on oneDNN at AVX2. The 0.90 threshold leaves that margin.
 */
class DigitsShapedVsUnshapedTest {
  private static final int DEPTH = 20;
  private static final int WIDTH = 16;
  private static final int BATCH = 128;
  private static final long STEPS = 400;
  private static final Pooling POOLING = Pooling.every(Pooling.Kind.STRIDED_CONV, 10);

  private static E2eSupport.Result run(boolean shaped, Dataset train, Dataset test, long seed) {
    BuiltModel m = shaped
        ? E2eSupport.plainCnn(DEPTH, WIDTH, "8x8x1", "leaky_relu", Method.TAT, POOLING, seed)
        : E2eSupport.plainCnn(DEPTH, WIDTH, "8x8x1", "relu", null, POOLING, seed);
    OptimizerDefaults d = OptimizerDefaults.kfac();
    // what dks train builds for --seed S with no optimizer flag on a shaped model
    TrainingSpec spec = TrainingSpec.defaults()
        .withKfac(KfacOptions.defaults().withPatchRowsPerDimension(3).withSeed(seed));
    LearningRateSchedule lr = LearningRateSchedule.cosineWithWarmup(d.lr(),
        d.warmupSteps(STEPS), STEPS);
    return E2eSupport.trainAndEvaluate((shaped ? "shaped " : "unshaped ") + "seed " + seed, m,
        train, test, BATCH, STEPS, spec, lr, d.momentum(), 0, seed);
  }

  @Test
  void shapedTwentyLayerCnnBeats90PercentAndUnshapedStaysAtChance() {
    Path cache = E2eSupport.cache("digits/digits.csv.gz");
    long t0 = System.nanoTime();
    Dataset all = DataSets.load("digits", cache);
    for (long seed : new long[] {0, 1}) {
      Dataset.Split split = all.split(0.2, seed);
      Dataset.ChannelStats stats = split.train().channelStats();
      Dataset train = split.train().standardized(stats);
      Dataset test = split.validation().standardized(stats);
      E2eSupport.Result shaped = run(true, train, test, seed);
      System.out.println(shaped);
      assertTrue(shaped.testAccuracy() > 0.90, shaped.toString());
      if (seed == 0) {
        // the control once: measured 0.084 (chance; 10 classes) with oneDNN off
        E2eSupport.Result unshaped = run(false, train, test, seed);
        System.out.println(unshaped);
        System.out.printf(Locale.ROOT, "digits seed %d: shaped %.4f vs unshaped %.4f (%d test)%n",
            seed, shaped.testAccuracy(), unshaped.testAccuracy(), test.size());
        assertTrue(unshaped.testAccuracy() < 0.25, unshaped.toString());
        assertTrue(shaped.testAccuracy() > unshaped.testAccuracy() + 0.5,
            "shaped " + shaped + " vs unshaped " + unshaped);
      }
    }
    System.out.printf(Locale.ROOT, "digits wall %.1f s%n", (System.nanoTime() - t0) / 1e9);
  }
}
