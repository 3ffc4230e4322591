package dev.dks.trainers.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Schedules against hand-computed values. */
class LearningRateScheduleTest {

  @Test
  void constant() {
    LearningRateSchedule s = LearningRateSchedule.constant(0.1);
    assertEquals(0.1, s.at(0));
    assertEquals(0.1, s.at(1_000_000));
  }

  @Test
  void stepDecay() {
    LearningRateSchedule s = LearningRateSchedule.stepDecay(1.0, new long[] {10, 20},
        new double[] {0.1, 0.01});
    assertEquals(1.0, s.at(0));
    assertEquals(1.0, s.at(9));
    assertEquals(0.1, s.at(10));
    assertEquals(0.1, s.at(19));
    assertEquals(0.01, s.at(20));
    assertEquals(0.01, s.at(500));
    assertThrows(IllegalArgumentException.class,
        () -> LearningRateSchedule.stepDecay(1, new long[] {5, 5}, new double[] {1, 1}));
    assertThrows(IllegalArgumentException.class,
        () -> LearningRateSchedule.stepDecay(1, new long[] {5}, new double[] {1, 1}));
  }

  @Test
  void cosineWithWarmup() {
    // lr0 = 2, w = 10, T = 110
    LearningRateSchedule s = LearningRateSchedule.cosineWithWarmup(2.0, 10, 110);
    assertEquals(0.0, s.at(0));
    assertEquals(1.0, s.at(5), 1e-12); // half-way through the warm-up
    assertEquals(2.0, s.at(10), 1e-12); // warm-up end: the peak
    assertEquals(1.0, s.at(60), 1e-12); // midpoint of the cosine: 0.5 * 2 * (1 + cos(pi/2))
    assertEquals(0.5 * 2 * (1 + Math.cos(Math.PI * 0.25)), s.at(35), 1e-12);
    assertEquals(0.0, s.at(110), 1e-12); // end
    assertEquals(0.0, s.at(200), 1e-12);
    assertThrows(IllegalArgumentException.class,
        () -> LearningRateSchedule.cosineWithWarmup(1, 10, 10));
  }

  @Test
  void cosineWithoutWarmupStartsAtThePeak() {
    LearningRateSchedule s = LearningRateSchedule.cosineWithWarmup(0.4, 0, 100);
    assertEquals(0.4, s.at(0), 1e-12);
    assertEquals(0.2, s.at(50), 1e-12);
  }

  @Test
  void userFunction() {
    LearningRateSchedule s = LearningRateSchedule.of(t -> 1.0 / (1 + t));
    assertEquals(1.0, s.at(0));
    assertEquals(0.25, s.at(3));
  }
}
