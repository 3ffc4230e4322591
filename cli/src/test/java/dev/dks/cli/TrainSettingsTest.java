package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.trainers.kfac.ConvApproximation;
import dev.dks.trainers.kfac.KfacOptions;
import dev.dks.trainers.optim.ScheduleKind;
import dev.dks.trainers.optim.SgdOptimizer;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * How {@code dks train}'s optimizer flags resolve (no TF, milliseconds): a flag given wins, a
 * flag left out or given as {@code auto} takes the optimizer's default, and {@code defaults}
 * names exactly the ones that did. The default values themselves are checked against the
 * numbers the README and the issue state (Nesterov, cosine, a 10% warm-up; K-FAC damping 1e-2
 * with K-FAC-reduce; the TAT recipe's 1e-3, KFC-expand, inverses every 50 one flag away).
 */
class TrainSettingsTest {

  private static TrainSettings.Flags flags(String optimizer, String recipe, String lr,
      String schedule, String warmup, String damping, String conv) {
    return new TrainSettings.Flags(optimizer, recipe, lr, schedule, warmup, null, damping, conv,
        null, null, null, null, null, null, null, null, null, null, false, 7);
  }

  @Test
  void noFlagIsNesterovWithCosineAndATenthWarmupOnAnUnshapedModel() {
    TrainSettings s = TrainSettings.resolve(TrainSettings.Flags.of(null), 300, false);
    assertEquals("nesterov", s.optimizer());
    assertEquals(SgdOptimizer.Kind.NESTEROV, s.sgdKind());
    assertFalse(s.isKfac());
    assertNull(s.kfac());
    assertEquals(ScheduleKind.COSINE, s.schedule());
    assertEquals(30, s.warmupSteps());
    assertEquals(0.9, s.momentum());
    assertTrue(s.lr() > 0);
    assertEquals(List.of("optimizer", "lr", "schedule", "warmup-steps", "momentum"),
        s.defaulted());
    // the schedule is the cosine with that warm-up: 0 at step 0, the peak at step 30, 0 at 300
    assertEquals(0.0, s.learningRateSchedule().at(0));
    assertEquals(s.lr(), s.learningRateSchedule().at(30), 1e-15);
    assertEquals(0.0, s.learningRateSchedule().at(300));
  }

  @Test
  void noFlagIsKfacWithItsDefaultsOnAShapedModel() {
    TrainSettings auto = TrainSettings.resolve(TrainSettings.Flags.of(null), 300, true);
    TrainSettings kfac = TrainSettings.resolve(TrainSettings.Flags.of("kfac"), 300, false);
    assertEquals("kfac", auto.optimizer());
    assertEquals(kfac.kfac(), auto.kfac());
    assertEquals(kfac.lr(), auto.lr());
    assertEquals("optimizer", auto.defaulted().get(0));
    // an explicit optimizer wins over the shaping record; a K-FAC recipe asks for K-FAC
    assertEquals("nesterov", TrainSettings.resolve(TrainSettings.Flags.of("nesterov"), 300,
        true).optimizer());
    assertEquals("kfac", TrainSettings.resolve(flags("auto", "tat", null, null, null, null,
        null), 300, false).optimizer());
  }

  @Test
  void sgdOnAShapedModelDefaultsToTheSmallerPeak() {
    // 0.02 diverges on the README's TAT cnn (no normalization layer absorbs a large step)
    assertEquals(0.005, TrainSettings.resolve(TrainSettings.Flags.of("nesterov"), 300, true)
        .lr());
    assertEquals(0.02, TrainSettings.resolve(TrainSettings.Flags.of("nesterov"), 300, false)
        .lr());
    // plain SGD keeps the same effective step as momentum 0.9: lr / (1 - 0.9)
    assertEquals(0.05, TrainSettings.resolve(TrainSettings.Flags.of("sgd"), 300, true).lr(),
        1e-12);
    assertEquals(0.2, TrainSettings.resolve(TrainSettings.Flags.of("sgd"), 300, false).lr(),
        1e-12);
  }

  @Test
  void givenFlagsWinAndAutoMeansTheDefault() {
    TrainSettings s = TrainSettings.resolve(flags("momentum", null, "0.3", "step", "12", null,
        null), 100, false);
    assertEquals(0.3, s.lr());
    assertEquals(ScheduleKind.STEP, s.schedule());
    assertEquals(12, s.warmupSteps());
    assertEquals(List.of("momentum"), s.defaulted());
    assertEquals(0.3 * 3 / 12, s.learningRateSchedule().at(2), 1e-15); // warm-up (t + 1) / w
    assertEquals(0.03, s.learningRateSchedule().at(50), 1e-15); // x0.1 from 50%

    TrainSettings auto = TrainSettings.resolve(flags("nesterov", null, "auto", "AUTO", "auto",
        null, null), 300, false);
    TrainSettings none = TrainSettings.resolve(TrainSettings.Flags.of("nesterov"), 300, false);
    assertEquals(none, auto);
  }

  @Test
  void plainSgdTakesTheSameEffectiveStepAsMomentum() {
    double nesterov = TrainSettings.resolve(TrainSettings.Flags.of("nesterov"), 300, false).lr();
    double sgd = TrainSettings.resolve(TrainSettings.Flags.of("sgd"), 300, false).lr();
    assertEquals(nesterov / (1 - 0.9), sgd, 1e-12);
  }

  @Test
  void kfacDefaultsAreStableOnPooledCnnsAndTheTatRecipeIsOneFlagAway() {
    TrainSettings k = TrainSettings.resolve(TrainSettings.Flags.of("kfac"), 300, false);
    assertTrue(k.isKfac());
    assertEquals("default", k.kfacRecipe());
    assertEquals(1e-2, k.kfac().damping());
    assertEquals(ConvApproximation.REDUCE, k.kfac().conv());
    assertEquals(10, k.kfac().inverseEvery());
    assertEquals(1e-3, k.lr());
    assertEquals(ScheduleKind.COSINE, k.schedule());
    assertEquals(30, k.warmupSteps());
    assertEquals(3, k.kfac().patchRowsPerDimension()); // dks train samples patch rows
    // issue 16: statistics every 2 steps from 32 examples (about 1.2x SGD's step on the README cnn)
    assertEquals(2, k.kfac().curvatureEvery());
    assertEquals(32, k.kfac().statisticsExamples());
    assertEquals(0, k.kfac().denseStatisticsSteps());
    assertTrue(k.defaulted().containsAll(List.of("lr", "damping", "conv-approximation",
        "inverse-every", "curvature-every", "stats-examples")));

    TrainSettings tat = TrainSettings.resolve(flags("kfac", "tat", null, null, null, null, null),
        300, false);
    assertEquals(1e-3, tat.kfac().damping());
    assertEquals(ConvApproximation.EXPAND, tat.kfac().conv());
    assertEquals(50, tat.kfac().inverseEvery());
    assertEquals(3e-4, tat.lr());
    assertEquals(KfacOptions.tatRecipe().curvatureEma(), tat.kfac().curvatureEma());
    assertEquals(7, tat.kfac().seed());
    // the recipe keeps its statistics: every step, the whole batch
    assertEquals(1, tat.kfac().curvatureEvery());
    assertEquals(0, tat.kfac().statisticsExamples());

    TrainSettings mixed = TrainSettings.resolve(flags("kfac", "tat", "1e-3", null, "5", "1e-2",
        "reduce"), 300, false);
    assertEquals(1e-2, mixed.kfac().damping());
    assertEquals(ConvApproximation.REDUCE, mixed.kfac().conv());
    assertEquals(1e-3, mixed.lr());
    assertEquals(5, mixed.warmupSteps());
    assertEquals(List.of("schedule", "momentum", "inverse-every", "curvature-every",
        "stats-examples"), mixed.defaulted());
  }

  private static TrainSettings.Flags statistics(Integer inverseEvery, Integer curvatureEvery,
      Integer statsExamples) {
    return new TrainSettings.Flags("kfac", null, null, null, null, null, null, null,
        inverseEvery, curvatureEvery, null, null, null, null, null, null, statsExamples, null,
        false, 7);
  }

  @Test
  void theOldWholeBatchEveryStepStatisticsAreTwoFlagsAway() {
    TrainSettings old = TrainSettings.resolve(statistics(null, 1, 0), 300, false);
    // the defaults before issue 16's change, built field by field from the TAT recipe
    KfacOptions expected = KfacOptions.tatRecipe().withConv(ConvApproximation.REDUCE)
        .withDamping(1e-2).withPeriods(1, 10).withPatchRowsPerDimension(3).withSeed(7);
    assertEquals(expected, old.kfac());
    assertTrue(old.line().contains("statistics every 1 from the whole batch"), old.line());
    assertFalse(old.defaulted().contains("stats-examples"), old.defaulted().toString());
    // negative control: the defaults are not those
    TrainSettings now = TrainSettings.resolve(TrainSettings.Flags.of("kfac"), 300, false);
    assertFalse(expected.equals(now.kfac()));
    assertTrue(now.line().contains("statistics every 2 from the first 32 examples"),
        now.line());
    var o = Json.object();
    now.json(o);
    assertEquals(32, o.get("kfac").get("stats_examples").asInt());
    assertEquals(2, o.get("kfac").get("curvature_every").asInt());
    // an odd inverse period alone: the default statistics period divides it (gcd 1)
    TrainSettings odd = TrainSettings.resolve(statistics(5, null, null), 300, false);
    assertEquals(1, odd.kfac().curvatureEvery());
    assertEquals(5, odd.kfac().inverseEvery());
    assertEquals(32, odd.kfac().statisticsExamples());
    assertEquals(2, TrainSettings.resolve(statistics(50, null, null), 300, false).kfac()
        .curvatureEvery());
  }

  @Test
  void badValuesNameTheirFlag() {
    assertMessage(flags("adam", null, null, null, null, null, null), "--optimizer", "kfac");
    assertMessage(flags("nesterov", "tat", null, null, null, null, null), "--kfac-recipe");
    assertMessage(flags("kfac", "imagenet", null, null, null, null, null), "--kfac-recipe",
        "tat");
    assertMessage(flags(null, null, "fast", null, null, null, null), "--lr", "fast");
    assertMessage(flags(null, null, "-1", null, null, null, null), "--lr", "positive");
    assertMessage(flags(null, null, null, "linear", null, null, null), "linear", "cosine");
    assertMessage(flags(null, null, null, null, "300", null, null), "--warmup-steps", "300");
    assertMessage(flags(null, null, null, null, "-2", null, null), "--warmup-steps");
    assertMessage(flags("kfac", null, null, null, null, "0", null), "damping");
    assertMessage(flags("kfac", null, null, null, null, null, "shrink"), "--conv-approximation",
        "reduce");
  }

  @Test
  void settingsLineAndJsonNameTheEffectiveValues() {
    TrainSettings k = TrainSettings.resolve(flags("kfac", null, null, null, null, "3e-2", null),
        200, false);
    String line = k.line();
    assertTrue(line.contains("damping 0.03"), line);
    assertTrue(line.contains("warm-up 20 of 200 steps"), line);
    assertTrue(line.contains("conv reduce"), line);
    var o = Json.object();
    k.json(o);
    assertEquals(0.03, o.get("kfac").get("damping").asDouble());
    assertEquals("reduce", o.get("kfac").get("conv_approximation").asText());
    assertEquals(20, o.get("warmup_steps").asLong());
    assertFalse(o.get("defaults").toString().contains("damping"));
  }

  private static TrainSettings.Flags periods(Integer curvatureEvery, Integer dense) {
    return new TrainSettings.Flags("kfac", null, null, null, null, null, null, null, null,
        curvatureEvery, dense, null, null, null, null, null, null, null, false, 7);
  }

  @Test
  void denseStatisticsStartIsOptIn() {
    // left out: the period applies from step 0, as before the flag existed
    TrainSettings plain = TrainSettings.resolve(periods(5, null), 300, false);
    assertEquals(0, plain.kfac().denseStatisticsSteps());
    assertFalse(plain.line().contains("every step before"), plain.line());
    // statistics at steps 0..29, then 30, 35, ...: steps 0-31 hold 30 + 1 statistics steps
    TrainSettings dense = TrainSettings.resolve(periods(5, 30), 300, false);
    assertEquals(30, dense.kfac().denseStatisticsSteps());
    long count = java.util.stream.LongStream.range(0, 32)
        .filter(st -> dense.kfac().statisticsAt(st)).count();
    assertEquals(31, count);
    assertTrue(dense.line().contains("statistics every 5 (every step before step 30)"),
        dense.line());
    var o = Json.object();
    dense.json(o);
    assertEquals(30, o.get("kfac").get("curvature_dense_steps").asInt());
    assertEquals(5, o.get("kfac").get("curvature_every").asInt());
    assertMessage(periods(5, -1), "--curvature-dense-steps", "-1");
  }

  private static void assertMessage(TrainSettings.Flags f, String... parts) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TrainSettings.resolve(f, 300, false));
    for (String p : parts) {
      assertTrue(e.getMessage().contains(p), e.getMessage() + " lacks " + p);
    }
  }
}
