package dev.dks.trainers.kfac;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/**
 * Every wither of {@link KfacOptions} changes its own field and keeps the others: each result is
 * compared with options written out through the canonical constructor.
 */
class KfacOptionsWithersTest {
  private static final DampingAdaptation LM = DampingAdaptation.standard();

  /** A base with no field at a default value, so a wither that resets one is caught. */
  private static KfacOptions base() {
    return new KfacOptions(0.9, 2, 8, 3, 0.05, 0.01, FisherEstimation.EXACT, InverseMethod.LU, 16,
        11, ConvApproximation.HYBRID, 2.5, LM, 6);
  }

  @Test
  void eachWitherChangesOnlyItsField() {
    assertEquals(new KfacOptions(0.5, 2, 8, 3, 0.05, 0.01, FisherEstimation.EXACT,
        InverseMethod.LU, 16, 11, ConvApproximation.HYBRID, 2.5, LM, 6),
        base().withCurvatureEma(0.5));
    assertEquals(new KfacOptions(0.9, 3, 9, 3, 0.05, 0.01, FisherEstimation.EXACT,
        InverseMethod.LU, 16, 11, ConvApproximation.HYBRID, 2.5, LM, 6), base().withPeriods(3, 9));
    assertEquals(new KfacOptions(0.9, 2, 8, 0, 0.05, 0.01, FisherEstimation.EXACT,
        InverseMethod.LU, 16, 11, ConvApproximation.HYBRID, 2.5, LM, 6), base().withBurnIn(0));
    assertEquals(new KfacOptions(0.9, 2, 8, 3, 0.2, 0.01, FisherEstimation.EXACT,
        InverseMethod.LU, 16, 11, ConvApproximation.HYBRID, 2.5, LM, 6), base().withDamping(0.2));
    assertEquals(new KfacOptions(0.9, 2, 8, 3, 0.05, 0, FisherEstimation.EXACT,
        InverseMethod.LU, 16, 11, ConvApproximation.HYBRID, 2.5, LM, 6),
        base().withNormConstraint(0));
    assertEquals(new KfacOptions(0.9, 2, 8, 3, 0.05, 0.01, FisherEstimation.SAMPLED,
        InverseMethod.LU, 16, 11, ConvApproximation.HYBRID, 2.5, LM, 6),
        base().withEstimation(FisherEstimation.SAMPLED));
    assertEquals(new KfacOptions(0.9, 2, 8, 3, 0.05, 0.01, FisherEstimation.EXACT,
        InverseMethod.EIGEN, 16, 11, ConvApproximation.HYBRID, 2.5, LM, 6),
        base().withInverse(InverseMethod.EIGEN));
    assertEquals(new KfacOptions(0.9, 2, 8, 3, 0.05, 0.01, FisherEstimation.EXACT,
        InverseMethod.LU, 0, 11, ConvApproximation.HYBRID, 2.5, LM, 6),
        base().withStatisticsExamples(0));
    assertEquals(new KfacOptions(0.9, 2, 8, 3, 0.05, 0.01, FisherEstimation.EXACT,
        InverseMethod.LU, 16, 4, ConvApproximation.HYBRID, 2.5, LM, 6), base().withSeed(4));
    assertEquals(new KfacOptions(0.9, 2, 8, 3, 0.05, 0.01, FisherEstimation.EXACT,
        InverseMethod.LU, 16, 11, ConvApproximation.REDUCE, 2.5, LM, 6),
        base().withConv(ConvApproximation.REDUCE));
    assertEquals(new KfacOptions(0.9, 2, 8, 3, 0.05, 0.01, FisherEstimation.EXACT,
        InverseMethod.LU, 16, 11, ConvApproximation.HYBRID, 0, LM, 6),
        base().withPatchRowsPerDimension(0));
    assertEquals(new KfacOptions(0.9, 2, 8, 3, 0.05, 0.01, FisherEstimation.EXACT,
        InverseMethod.LU, 16, 11, ConvApproximation.HYBRID, 2.5, null, 6),
        base().withAdaptation(null));
    assertEquals(new KfacOptions(0.9, 2, 8, 3, 0.05, 0.01, FisherEstimation.EXACT,
        InverseMethod.LU, 16, 11, ConvApproximation.HYBRID, 2.5, LM, 0),
        base().withDenseStatisticsSteps(0));
  }

  @Test
  void withersValidateLikeTheConstructor() {
    assertThrows(IllegalArgumentException.class, () -> base().withPeriods(3, 8));
    assertThrows(IllegalArgumentException.class, () -> base().withDamping(0));
  }
}
