package dev.dks.trainers.kfac;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The statistics schedule with a dense start: statistics at every global step below
 * {@code denseStatisticsSteps}, then at multiples of {@code curvatureEvery}. The expected step
 * lists are written out by hand.
 */
class KfacDenseStatisticsTest {

  private static List<Long> statisticsSteps(KfacOptions o, long upTo) {
    List<Long> out = new ArrayList<>();
    for (long s = 0; s < upTo; s++) {
      if (o.statisticsAt(s)) {
        out.add(s);
      }
    }
    return out;
  }

  @Test
  void denseStartThenThePeriod() {
    KfacOptions o = KfacOptions.defaults().withPeriods(5, 10).withDenseStatisticsSteps(7);
    assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L, 10L, 15L, 20L), statisticsSteps(o, 21));
  }

  @Test
  void noDenseStartIsThePeriodFromStepZero() {
    KfacOptions o = KfacOptions.defaults().withPeriods(5, 10);
    assertEquals(0, o.denseStatisticsSteps());
    assertEquals(List.of(0L, 5L, 10L, 15L), statisticsSteps(o, 16));
  }

  @Test
  void everyStepPeriodIgnoresTheDenseStart() {
    KfacOptions o = KfacOptions.defaults().withPeriods(1, 10).withDenseStatisticsSteps(3);
    assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L), statisticsSteps(o, 6));
  }

  @Test
  void negativeDenseStepsAreRefused() {
    assertThrows(IllegalArgumentException.class,
        () -> KfacOptions.defaults().withDenseStatisticsSteps(-1));
  }
}
