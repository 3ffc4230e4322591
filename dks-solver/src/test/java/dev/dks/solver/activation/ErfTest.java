package dev.dks.solver.activation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * erf / erfc / Phi against published values (Abramowitz and Stegun table 7.1; the decimal values
 * below are 20-digit mpmath evaluations rounded to double) to about 2 ulps.
 */
class ErfTest {
  private static void assertRelative(double expected, double actual, double rel, String what) {
    assertEquals(expected, actual, rel * Math.abs(expected), what);
  }

  @ParameterizedTest(name = "erf({0}) = {1}")
  @CsvSource({
    "0.5, 0.5204998778130465",
    "1.0, 0.8427007929497149",
    "2.0, 0.9953222650189527",
    "0.1, 0.1124629160182849",
    "3.5, 0.9999992569016276",
    "1e-5, 1.1283791670579e-05",
  })
  void erfKnownValues(double x, double expected) {
    assertRelative(expected, SpecialFunctions.erf(x), 1e-15, "erf(" + x + ")");
    assertRelative(-expected, SpecialFunctions.erf(-x), 1e-15, "erf(-" + x + ")");
  }

  @ParameterizedTest(name = "erfc({0}) = {1}")
  @CsvSource({
    "3.0, 2.209049699858544e-05",
    "5.0, 1.5374597944280349e-12",
    "-1.0, 1.8427007929497148",
    "0.5, 0.4795001221869535",
    "4.0, 1.541725790028002e-08",
    "10.0, 2.088487583762545e-45",
    "26.0, 5.663192408856143e-296",
    "-3.0, 1.9999779095030015",
  })
  void erfcKnownValues(double x, double expected) {
    assertRelative(expected, SpecialFunctions.erfc(x), 1e-15, "erfc(" + x + ")");
  }

  /**
   * erfc between 1 and 2.5 (where the class promises "a few ulps"): relative accuracy must not
   * degrade because erfc is computed as 1 - erf there.
   */
  @ParameterizedTest(name = "erfc({0}) = {1}")
  @CsvSource({
    "1.5, 0.033894853524689274",
    "2.0, 0.004677734981047266",
    "2.5, 0.0004069520174449589",
  })
  void erfcKeepsRelativeAccuracyBelowTheContinuedFractionRange(double x, double expected) {
    assertRelative(expected, SpecialFunctions.erfc(x), 1e-14, "erfc(" + x + ")");
  }

  @Test
  void erfPlusErfcIsOne() {
    for (double x = -6; x <= 6; x += 0.37) {
      assertEquals(1.0, SpecialFunctions.erf(x) + SpecialFunctions.erfc(x), 3e-16, "x=" + x);
    }
  }

  @Test
  void erfIsContinuousAtTheSeriesSwitch() {
    double below = SpecialFunctions.erf(Math.nextDown(2.5));
    double above = SpecialFunctions.erf(Math.nextUp(2.5));
    assertEquals(below, above, 1e-15);
    // erf(2.5) = 0.999593047982555041 (A&S 7.1)
    assertEquals(0.9995930479825550, SpecialFunctions.erf(2.5), 1e-15);
  }

  @Test
  void limitsAndNaN() {
    assertEquals(1.0, SpecialFunctions.erf(30.0));
    assertEquals(-1.0, SpecialFunctions.erf(-30.0));
    assertEquals(0.0, SpecialFunctions.erfc(40.0));
    assertEquals(2.0, SpecialFunctions.erfc(-40.0));
    assertEquals(0.0, SpecialFunctions.erf(0.0));
    assertTrue(Double.isNaN(SpecialFunctions.erf(Double.NaN)));
    assertTrue(Double.isNaN(SpecialFunctions.erfc(Double.NaN)));
  }

  @Test
  void normalCdfAndPdf() {
    assertRelative(0.15865525393145705, SpecialFunctions.normalCdf(-1), 1e-15, "Phi(-1)");
    assertRelative(0.9750021048517795, SpecialFunctions.normalCdf(1.96), 1e-15, "Phi(1.96)");
    assertRelative(2.866515718791939e-07, SpecialFunctions.normalCdf(-5), 1e-14, "Phi(-5)");
    assertRelative(0.31225393336676127, SpecialFunctions.normalPdf(0.7), 1e-15, "pdf(0.7)");
    assertEquals(1 / Math.sqrt(2 * Math.PI), SpecialFunctions.INV_SQRT_2PI, 1e-17);
    assertEquals(2 / Math.sqrt(Math.PI), SpecialFunctions.TWO_OVER_SQRT_PI, 3e-16);
  }
}
