package dev.dks.solver.activation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

/** The reference's dictionary omits identity operations (scale 1, shift 0, no slope). */
class ShapingParamsTest {
  @Test
  void identityHasEmptyMap() {
    assertTrue(ShapingParams.IDENTITY.asMap().isEmpty());
    assertTrue(ShapingParams.of(1.0, 0.0, 0.0, 1.0).asMap().isEmpty());
    assertTrue(ShapingParams.of(1.0, -0.0, -0.0, 1.0).asMap().isEmpty());
  }

  @Test
  void onlyNonIdentityOperationsAppear() {
    assertEquals(Map.of("input_scale", 2.0), ShapingParams.of(2, 0, 0, 1).asMap());
    assertEquals(Map.of("input_shift", -0.5), ShapingParams.of(1, -0.5, 0, 1).asMap());
    assertEquals(Map.of("output_shift", 0.1), ShapingParams.of(1, 0, 0.1, 1).asMap());
    assertEquals(Map.of("output_scale", 3.0), ShapingParams.of(1, 0, 0, 3).asMap());
    // leaky ReLU (TAT): slope and output scale only
    Map<String, Double> leaky =
        new ShapingParams(1, 0, 0, 1.3, OptionalDouble.of(0.42)).asMap();
    assertEquals(Map.of("output_scale", 1.3, "negative_slope", 0.42), leaky);
    // a slope of 0 is a real parameter, not an identity op
    assertEquals(Map.of("negative_slope", 0.0),
        new ShapingParams(1, 0, 0, 1, OptionalDouble.of(0.0)).asMap());
  }

  @Test
  void keysInReferenceOrder() {
    Map<String, Double> m = new ShapingParams(2, 3, 4, 5, OptionalDouble.of(0.1)).asMap();
    assertEquals(List.of("input_scale", "input_shift", "output_shift", "output_scale",
        "negative_slope"), List.copyOf(m.keySet()));
    assertEquals(List.of(2.0, 3.0, 4.0, 5.0, 0.1), List.copyOf(m.values()));
  }

  @Test
  void withersChangeOneField() {
    ShapingParams p = ShapingParams.of(2, 3, 4, 5);
    assertEquals(ShapingParams.of(2, 3, 9, 5), p.withOutputShift(9));
    assertEquals(ShapingParams.of(2, 3, 4, 9), p.withOutputScale(9));
    assertEquals(ShapingParams.of(2, 9, 4, 5), p.withInputShift(9));
  }
}
