package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

/** {@code --eta}: a number, or {@code auto} (the largest eta a shallow network reaches). */
class EtaFlagTest {
  private final ShapingFlags.EtaConverter parse = new ShapingFlags.EtaConverter();

  @Test
  void numbersAndAuto() {
    assertEquals(0.5, parse.convert("0.5"), 0.0);
    assertTrue(parse.convert("auto").isNaN());
    assertTrue(parse.convert("AUTO").isNaN());
  }

  @Test
  void anythingElseIsRefused() {
    // NaN would otherwise pass for 'auto'
    assertThrows(TypeConversionException.class, () -> parse.convert("NaN"));
    assertThrows(TypeConversionException.class, () -> parse.convert("automatic"));
  }
}
