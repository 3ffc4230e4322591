package dev.dks.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dks.trainers.kfac.ConvApproximation;
import dev.dks.trainers.kfac.DampingAdaptation;
import dev.dks.trainers.kfac.FisherEstimation;
import dev.dks.trainers.kfac.InverseMethod;
import dev.dks.trainers.kfac.KfacOptions;
import dev.dks.trainers.optim.LearningRateSchedule;
import dev.dks.trainers.optim.OptimizerDefaults;
import dev.dks.trainers.optim.RunLength;
import dev.dks.trainers.optim.ScheduleKind;
import dev.dks.trainers.optim.SgdOptimizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The effective optimizer settings of one {@code dks train} run: every optimizer flag the user
 * gave, and for every other one the chosen optimizer's default ({@link OptimizerDefaults}, and
 * for K-FAC {@link KfacOptions#defaults()} or, with {@code --kfac-recipe tat}, {@link
 * KfacOptions#tatRecipe()}). A flag left out, or given as {@code auto}, means "the optimizer's
 * default"; {@link #defaulted()} names the settings that came from the defaults.
 *
 * <p>The optimizer itself defaults to {@code auto}: K-FAC for a model whose shaping record says
 * it was shaped by DKS or TAT (the optimizer those plain networks were published with; Nesterov
 * SGD stalls near ln 10 for its first hundred steps on the builder's 20-layer plain CNN without
 * down-sampling and diverges a little above the learning rate that escapes; SGD on a shaped
 * model defaults to a smaller peak, {@link OptimizerDefaults#SHAPED_SGD_LR}), Nesterov SGD for any other model.
 *
 * @param optimizer {@code sgd}, {@code momentum}, {@code nesterov} or {@code kfac}
 * @param kfacRecipe for K-FAC, the base of its options: {@code default} or {@code tat}; null for
 *     the SGD family
 * @param lr the peak learning rate
 * @param schedule the schedule shape
 * @param warmupSteps the linear warm-up steps
 * @param totalSteps the run's total steps (the cosine reaches 0 there)
 * @param length where {@code totalSteps} came from: {@code --steps}, {@code --epochs} or the
 *     default length (one epoch, at least {@value RunLength#MIN_STEPS} steps; {@code steps} is
 *     then among {@code defaulted})
 * @param momentum the momentum fed every step
 * @param kfac K-FAC's options, or null for the SGD family
 * @param defaulted the flags (without {@code --}) whose value is the optimizer's default
 */
record TrainSettings(String optimizer, String kfacRecipe, double lr, ScheduleKind schedule,
    long warmupSteps, long totalSteps, RunLength length, double momentum, KfacOptions kfac,
    List<String> defaulted) {

  /** The value that asks for the optimizer's default explicitly. */
  static final String AUTO = "auto";
  /** The K-FAC base recipes {@code --kfac-recipe} takes. */
  static final List<String> KFAC_RECIPES = List.of("default", "tat");

  /** Copies the list. */
  TrainSettings {
    defaulted = List.copyOf(defaulted);
  }

  /**
   * The optimizer flags as given: a null (or {@code auto} string) for every flag left out.
   * Numbers that have no {@code auto} form are boxed and null when absent.
   */
  record Flags(String optimizer, String kfacRecipe, String lr, String schedule,
      String warmupSteps, Double momentum, String damping, String convApproximation,
      Integer inverseEvery, Integer curvatureEvery, Integer curvatureDenseSteps,
      Double curvatureEma, Double normConstraint,
      Integer burnIn, String estimation, String inverse, Integer statsExamples,
      Double patchRowsPerDim, boolean adaptiveDamping, long seed) {

    /** Only the optimizer named (null: auto), every other flag absent. */
    static Flags of(String optimizer) {
      return new Flags(optimizer, null, null, null, null, null, null, null, null, null, null,
          null, null, null, null, null, null, null, false, 0);
    }
  }

  /**
   * Resolves the flags of a run of {@code totalSteps} steps.
   *
   * @param shaped whether the model carries a DKS or TAT shaping record (chooses the optimizer
   *     when it is {@code auto} or left out)
   * @throws IllegalArgumentException naming the flag, for a value that does not parse or is out
   *     of range
   */
  static TrainSettings resolve(Flags f, long totalSteps, boolean shaped) {
    return resolve(f, RunLength.ofSteps(totalSteps, 0), shaped);
  }

  /**
   * Resolves the flags of a run of {@code length}; a default length is named among the
   * defaults ({@code steps}).
   *
   * @throws IllegalArgumentException naming the flag, for a value that does not parse or is out
   *     of range
   */
  static TrainSettings resolve(Flags f, RunLength length, boolean shaped) {
    long totalSteps = length.steps();
    List<String> defaulted = new ArrayList<>();
    if (length.source() == RunLength.Source.DEFAULT) {
      defaulted.add("steps");
    }
    String opt;
    if (given(f.optimizer())) {
      opt = f.optimizer().trim().toLowerCase(Locale.ROOT);
    } else {
      opt = shaped || given(f.kfacRecipe()) ? "kfac" : "nesterov";
      defaulted.add("optimizer");
    }
    boolean kfac = opt.equals("kfac");
    String recipe = null;
    OptimizerDefaults base;
    if (kfac) {
      recipe = given(f.kfacRecipe()) ? f.kfacRecipe().toLowerCase(Locale.ROOT) : "default";
      if (!KFAC_RECIPES.contains(recipe)) {
        throw new IllegalArgumentException("--kfac-recipe: unknown value '" + f.kfacRecipe()
            + "', expected one of " + String.join(", ", KFAC_RECIPES));
      }
      base = recipe.equals("tat") ? OptimizerDefaults.kfacTatRecipe() : OptimizerDefaults.kfac();
    } else {
      if (given(f.kfacRecipe())) {
        throw new IllegalArgumentException("--kfac-recipe applies to --optimizer kfac only, "
            + "not " + opt);
      }
      base = OptimizerDefaults.sgd(sgdKind(opt), shaped);
    }
    double lr = base.lr();
    if (given(f.lr())) {
      lr = number("--lr", f.lr());
      if (!(lr > 0) || Double.isInfinite(lr)) {
        throw new IllegalArgumentException("--lr must be positive, got " + f.lr());
      }
    } else {
      defaulted.add("lr");
    }
    ScheduleKind schedule = base.schedule();
    if (given(f.schedule())) {
      schedule = ScheduleKind.parse(f.schedule());
    } else {
      defaulted.add("schedule");
    }
    long warmup;
    if (given(f.warmupSteps())) {
      try {
        warmup = Long.parseLong(f.warmupSteps().trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--warmup-steps: not a whole number or auto: '"
            + f.warmupSteps() + "'");
      }
      if (warmup < 0) {
        throw new IllegalArgumentException("--warmup-steps must be >= 0, got " + warmup);
      }
      if (warmup > 0 && warmup >= totalSteps) {
        throw new IllegalArgumentException("--warmup-steps " + warmup + " must be fewer than "
            + "the run's " + totalSteps + " steps");
      }
    } else {
      warmup = base.warmupSteps(totalSteps);
      defaulted.add("warmup-steps");
    }
    double momentum = base.momentum();
    if (f.momentum() != null) {
      momentum = f.momentum();
    } else {
      defaulted.add("momentum");
    }
    KfacOptions k = kfac ? kfacOptions(f, recipe, defaulted) : null;
    return new TrainSettings(opt, recipe, lr, schedule, warmup, totalSteps, length, momentum, k,
        defaulted);
  }

  private static KfacOptions kfacOptions(Flags f, String recipe, List<String> defaulted) {
    KfacOptions k = recipe.equals("tat") ? KfacOptions.tatRecipe() : KfacOptions.defaults();
    // dks train samples 3 d_A patch rows for KFC-expand A statistics with either base
    k = k.withPatchRowsPerDimension(3).withSeed(f.seed());
    if (given(f.damping())) {
      k = k.withDamping(number("--damping", f.damping()));
    } else {
      defaulted.add("damping");
    }
    if (given(f.convApproximation())) {
      k = k.withConv(choice("--conv-approximation", f.convApproximation(),
          ConvApproximation.class));
    } else {
      defaulted.add("conv-approximation");
    }
    int inverseEvery = f.inverseEvery() != null ? f.inverseEvery() : k.inverseEvery();
    // the default statistics period divides the given inverse period (gcd), so that
    // --inverse-every alone never asks for an impossible schedule
    int curvatureEvery = f.curvatureEvery() != null ? f.curvatureEvery()
        : java.math.BigInteger.valueOf(k.curvatureEvery()).gcd(
            java.math.BigInteger.valueOf(inverseEvery)).intValueExact();
    if (f.inverseEvery() == null) {
      defaulted.add("inverse-every");
    }
    if (f.curvatureEvery() == null) {
      defaulted.add("curvature-every");
    }
    k = k.withPeriods(curvatureEvery, inverseEvery);
    // opt-in: statistics at every step before the given step (0, the default, keeps the period
    // from step 0 as before this flag existed)
    if (f.curvatureDenseSteps() != null) {
      if (f.curvatureDenseSteps() < 0) {
        throw new IllegalArgumentException("--curvature-dense-steps must be >= 0, got "
            + f.curvatureDenseSteps());
      }
      k = k.withDenseStatisticsSteps(f.curvatureDenseSteps());
    }
    if (f.curvatureEma() != null) {
      k = k.withCurvatureEma(f.curvatureEma());
    }
    if (f.normConstraint() != null) {
      k = k.withNormConstraint(f.normConstraint());
    }
    if (f.burnIn() != null) {
      k = k.withBurnIn(f.burnIn());
    }
    if (given(f.estimation())) {
      k = k.withEstimation(choice("--estimation", f.estimation(), FisherEstimation.class));
    }
    if (given(f.inverse())) {
      k = k.withInverse(choice("--inverse", f.inverse(), InverseMethod.class));
    }
    if (f.statsExamples() != null) {
      k = k.withStatisticsExamples(f.statsExamples());
    } else {
      defaulted.add("stats-examples");
    }
    if (f.patchRowsPerDim() != null) {
      k = k.withPatchRowsPerDimension(f.patchRowsPerDim());
    }
    if (f.adaptiveDamping()) {
      k = k.withAdaptation(DampingAdaptation.standard());
    }
    return k;
  }

  /** The schedule of the run. */
  LearningRateSchedule learningRateSchedule() {
    return schedule.build(lr, warmupSteps, totalSteps);
  }

  /** The SGD-family rule ({@link SgdOptimizer.Kind#SGD} for K-FAC, whose update replaces it). */
  SgdOptimizer.Kind sgdKind() {
    return kfac != null ? SgdOptimizer.Kind.SGD : sgdKind(optimizer);
  }

  /** Whether the update is K-FAC. */
  boolean isKfac() {
    return kfac != null;
  }

  /** One line: {@code nesterov: lr 0.02 cosine, warm-up 30 of 300 steps, momentum 0.9 ...}. */
  String line() {
    StringBuilder b = new StringBuilder(optimizer);
    if (kfacRecipe != null) {
      b.append(" (").append(kfacRecipe.equals("tat") ? "TAT recipe" : "default recipe")
          .append(')');
    }
    b.append(String.format(Locale.ROOT, ": lr %s %s, warm-up %d of %d steps%s, momentum %s",
        num(lr), schedule.label(), warmupSteps, totalSteps,
        lengthNote(), num(momentum)));
    if (kfac != null) {
      b.append(String.format(Locale.ROOT, ", damping %s%s, conv %s, inverses every %d, "
              + "statistics every %d%s from %s, EMA %s, norm constraint %s, burn-in %d",
          num(kfac.damping()), kfac.adaptation() != null ? " (adaptive)" : "",
          kfac.conv().name().toLowerCase(Locale.ROOT), kfac.inverseEvery(),
          kfac.curvatureEvery(), kfac.curvatureEvery() > 1 && kfac.denseStatisticsSteps() > 0
              ? " (every step before step " + kfac.denseStatisticsSteps() + ")" : "",
          kfac.statisticsExamples() > 0 ? "the first " + kfac.statisticsExamples()
              + " examples" : "the whole batch",
          num(kfac.curvatureEma()), num(kfac.normConstraint()),
          kfac.burnIn()));
    }
    if (!defaulted.isEmpty()) {
      b.append(" (defaults: ").append(String.join(", ", defaulted)).append(')');
    }
    return b.toString();
  }

  /**
   * After the steps: {@code  (27.27 epochs of 11 steps; default length: one epoch, at least 300
   * steps)}, either part alone, or nothing.
   */
  private String lengthNote() {
    List<String> parts = new ArrayList<>();
    if (!length.epochsPhrase().isEmpty()) {
      parts.add(length.epochsPhrase());
    }
    if (length.source() == RunLength.Source.DEFAULT) {
      parts.add("default length: " + length.ruleApplied());
    }
    return parts.isEmpty() ? "" : " (" + String.join("; ", parts) + ")";
  }

  /** The settings as the {@code settings} object of {@code dks train --json}. */
  void json(ObjectNode o) {
    o.put("optimizer", optimizer);
    o.put("lr", lr);
    o.put("schedule", schedule.label());
    o.put("warmup_steps", warmupSteps);
    o.put("total_steps", totalSteps);
    o.put("length", length.sourceName());
    o.put("steps_per_epoch", length.stepsPerEpoch());
    if (length.stepsPerEpoch() > 0) {
      o.put("epochs", length.epochs());
    }
    o.put("momentum", momentum);
    if (kfac != null) {
      ObjectNode k = o.putObject("kfac");
      k.put("recipe", kfacRecipe);
      k.put("damping", kfac.damping());
      k.put("adaptive_damping", kfac.adaptation() != null);
      k.put("conv_approximation", kfac.conv().name().toLowerCase(Locale.ROOT));
      k.put("inverse_every", kfac.inverseEvery());
      k.put("curvature_every", kfac.curvatureEvery());
      k.put("curvature_dense_steps", kfac.denseStatisticsSteps());
      k.put("curvature_ema", kfac.curvatureEma());
      k.put("norm_constraint", kfac.normConstraint());
      k.put("burn_in", kfac.burnIn());
      k.put("estimation", kfac.estimation().name().toLowerCase(Locale.ROOT).replace('_', '-'));
      k.put("inverse", kfac.inverse().name().toLowerCase(Locale.ROOT));
      k.put("stats_examples", kfac.statisticsExamples());
      k.put("patch_rows_per_dim", kfac.patchRowsPerDimension());
    }
    defaulted.forEach(o.putArray("defaults")::add);
  }

  private static String num(double v) {
    return v == Math.rint(v) && Math.abs(v) < 1e6 ? String.valueOf((long) v)
        : Double.toString(v).replace("E-", "e-").replace("E", "e");
  }

  private static boolean given(String value) {
    return value != null && !value.isBlank() && !value.trim().equalsIgnoreCase(AUTO);
  }

  private static double number(String flag, String value) {
    try {
      double v = Double.parseDouble(value.trim());
      if (!Double.isFinite(v)) {
        throw new NumberFormatException();
      }
      return v;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + ": not a number or auto: '" + value + "'");
    }
  }

  private static SgdOptimizer.Kind sgdKind(String optimizer) {
    try {
      return choice("--optimizer", optimizer, SgdOptimizer.Kind.class);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(e.getMessage() + ", kfac");
    }
  }

  static <E extends Enum<E>> E choice(String option, String value, Class<E> type) {
    for (E e : type.getEnumConstants()) {
      if (e.name().replace('_', '-').equalsIgnoreCase(value.trim())) {
        return e;
      }
    }
    List<String> names = new ArrayList<>();
    for (E e : type.getEnumConstants()) {
      names.add(e.name().replace('_', '-').toLowerCase(Locale.ROOT));
    }
    throw new IllegalArgumentException(option + ": unknown value '" + value
        + "', expected one of " + String.join(", ", names));
  }
}
