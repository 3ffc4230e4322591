package dev.dks.trainers.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.trainers.data.BatchIterator;
import dev.dks.trainers.data.DataSets;
import dev.dks.trainers.data.Dataset;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The default run length, one epoch of whole batches but at least 300 steps, against numbers
 * worked out by hand from the data sets' sizes at batch 128.
 */
class RunLengthTest {
  @Test
  void oneEpochAtLeast300Steps() {
    // Fashion-MNIST and MNIST: 60,000 / 128 = 468.75, 468 whole batches: one epoch
    RunLength fashion = RunLength.byDefault(60_000 / 128);
    assertEquals(468, fashion.steps());
    assertEquals(1.0, fashion.epochs(), 0);
    // the digits: 1,797 examples, round(0.2 x 1,797) = 359 held out, 1,438 / 128 = 11.23: the
    // floor, 300 steps = 27.27 epochs
    RunLength digits = RunLength.byDefault(1_438 / 128);
    assertEquals(300, digits.steps());
    assertEquals(300.0 / 11, digits.epochs(), 1e-12);
    // negative control: Keras's one epoch would be 11 steps here
    assertNotEquals(11, digits.steps());
    // synthetic's default 10,000 examples: 78 batches, 300 steps
    assertEquals(300, RunLength.byDefault(78).steps());
    // an epoch of exactly 300 and one of 301
    assertEquals(300, RunLength.byDefault(300).steps());
    assertEquals(301, RunLength.byDefault(301).steps());
    // a folder whose batch does not fit once: still 300 steps, epochs unknown
    assertEquals(300, RunLength.byDefault(0).steps());
    assertEquals(Double.NaN, RunLength.byDefault(0).epochs());
  }

  @Test
  void givenLengthsAreKeptAndEpochsRoundUp() {
    assertEquals(5, RunLength.ofSteps(5, 11).steps());
    assertEquals(RunLength.Source.STEPS, RunLength.ofSteps(5, 11).source());
    // 2.5 epochs of 11 steps: 27.5, rounded up to 28
    assertEquals(28, RunLength.ofEpochs(2.5, 11).steps());
    assertEquals(RunLength.Source.EPOCHS, RunLength.ofEpochs(2.5, 11).source());
    assertThrows(IllegalArgumentException.class, () -> RunLength.ofEpochs(0, 11));
    assertThrows(IllegalArgumentException.class, () -> RunLength.ofSteps(0, 11));
  }

  @Test
  void statesItself() {
    assertEquals("300 steps = 27.27 epochs of 11 steps (default: one epoch, at least 300 steps)",
        RunLength.byDefault(11).describe());
    assertEquals("468 steps = 1 epoch of 468 steps (default: one epoch, at least 300 steps)",
        RunLength.byDefault(468).describe());
    assertEquals("28 steps = 2.55 epochs of 11 steps", RunLength.ofEpochs(2.5, 11).describe());
    assertEquals("default", RunLength.byDefault(11).sourceName());
  }

  /** The rule on a real iterator: 1,300 synthetic examples at batch 4 are 325 whole batches. */
  @Test
  void anEpochLongerThanTheFloorIsTheLength() throws Exception {
    Dataset d = DataSets.load("synthetic:2x2x1:2:1300", Path.of("unused"));
    BatchIterator it = BatchIterator.builder(d).batchSize(4).seed(0).dropLast(true).build();
    assertEquals(325, it.batchesPerEpoch());
    assertEquals(325, RunLength.byDefault(it.batchesPerEpoch()).steps());
    BatchIterator big = BatchIterator.builder(d).batchSize(128).seed(0).dropLast(true).build();
    // 1,300 / 128 = 10.16: 10 batches, so the floor of 300
    assertEquals(300, RunLength.byDefault(big.batchesPerEpoch()).steps());
  }

  /**
   * A training batch norm's moving averages (momentum m) must keep under 0.1% of their start:
   * at Keras's 0.99, 0.99^687 = 0.001003 is not yet, 0.99^688 = 0.000993 is (powers computed
   * here, not by the rule).
   */
  @Test
  void batchNormRunsLongEnoughForItsMovingAverages() {
    assertEquals(688, RunLength.bnSteps(0.99));
    assertTrue(Math.pow(0.99, 688) <= 1e-3 && Math.pow(0.99, 687) > 1e-3);
    assertEquals(688, RunLength.byDefault(468, 0.99).steps());
    assertEquals(800, RunLength.byDefault(800, 0.99).steps());
    // momentum 0.9: ceil(6.9078 / 0.10536) = 66 steps, below the floor of 300
    assertEquals(66, RunLength.bnSteps(0.9));
    assertEquals(300, RunLength.byDefault(11, 0.9).steps());
    // no batch norm (NaN) or a momentum outside (0, 1): the plain rule (negative control)
    assertEquals(468, RunLength.byDefault(468, Double.NaN).steps());
    assertEquals(0, RunLength.bnSteps(Double.NaN));
    assertEquals(300, RunLength.byDefault(11, 0).steps());
    assertEquals("688 steps = 1.47 epochs of 468 steps (default: one epoch, at least 300 steps, "
        + "688 for batch norm's moving averages (momentum 0.99))",
        RunLength.byDefault(468, 0.99).describe());
  }
}
