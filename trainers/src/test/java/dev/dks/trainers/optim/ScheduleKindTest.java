package dev.dks.trainers.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Schedule shapes and the default warm-up against hand-computed values. */
class ScheduleKindTest {

  @Test
  void cosineIsTheRecipeSchedule() {
    LearningRateSchedule s = ScheduleKind.COSINE.build(2.0, 10, 110);
    assertEquals(0.0, s.at(0));
    assertEquals(1.0, s.at(5), 1e-12);
    assertEquals(2.0, s.at(10), 1e-12);
    assertEquals(1.0, s.at(60), 1e-12);
    assertEquals(0.0, s.at(110), 1e-12);
  }

  @Test
  void constantAndStepWarmUpFromTheFirstStep() {
    LearningRateSchedule c = ScheduleKind.CONSTANT.build(1.0, 4, 100);
    assertEquals(0.25, c.at(0), 1e-15);
    assertEquals(1.0, c.at(3), 1e-15);
    assertEquals(1.0, c.at(99), 1e-15);
    LearningRateSchedule s = ScheduleKind.STEP.build(1.0, 0, 100);
    assertEquals(1.0, s.at(49), 1e-15);
    assertEquals(0.1, s.at(50), 1e-15);
    assertEquals(0.01, s.at(75), 1e-15);
    assertThrows(IllegalArgumentException.class, () -> ScheduleKind.CONSTANT.build(1, 100, 100));
    assertEquals(ScheduleKind.STEP, ScheduleKind.parse("Step"));
    assertThrows(IllegalArgumentException.class, () -> ScheduleKind.parse("linear"));
  }

  @Test
  void defaultWarmupIsATenthOfTheRunBelowItsLength() {
    OptimizerDefaults d = OptimizerDefaults.sgd(SgdOptimizer.Kind.NESTEROV);
    assertEquals(30, d.warmupSteps(300));
    assertEquals(234, d.warmupSteps(2340));
    assertEquals(1, d.warmupSteps(6)); // round(0.6)
    assertEquals(0, d.warmupSteps(4)); // round(0.4)
    assertEquals(0, d.warmupSteps(1));
    assertEquals(d.lr() / (1 - 0.9), OptimizerDefaults.sgd(SgdOptimizer.Kind.SGD).lr(), 1e-12);
  }
}
