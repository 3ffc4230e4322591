package dev.dks.solver.activation;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * The parameters of a shaped activation {@code gamma * (phi_s(alpha * x + beta) + delta)}: alpha =
 * input scale, beta = input shift, delta = output shift, gamma = output scale and, for the leaky
 * ReLU only, the negative slope s of phi itself. Order of operations: scale input, shift input,
 * phi, add output shift, multiply by output scale.
 *
 * @param inputScale alpha (1 = identity)
 * @param inputShift beta (0 = identity)
 * @param outputShift delta (0 = identity)
 * @param outputScale gamma (1 = identity)
 * @param negativeSlope the leaky ReLU slope, empty for every other activation
 */
public record ShapingParams(
    double inputScale,
    double inputShift,
    double outputShift,
    double outputScale,
    OptionalDouble negativeSlope) {

  /** Key of alpha in {@link #asMap()} and in JSON output. */
  public static final String INPUT_SCALE = "input_scale";
  /** Key of beta. */
  public static final String INPUT_SHIFT = "input_shift";
  /** Key of delta. */
  public static final String OUTPUT_SHIFT = "output_shift";
  /** Key of gamma. */
  public static final String OUTPUT_SCALE = "output_scale";
  /** Key of the leaky ReLU slope. */
  public static final String NEGATIVE_SLOPE = "negative_slope";

  /** The identity transformation (alpha = gamma = 1, beta = delta = 0, no slope). */
  public static final ShapingParams IDENTITY =
      new ShapingParams(1.0, 0.0, 0.0, 1.0, OptionalDouble.empty());

  /** Parameters without a negative slope. */
  public static ShapingParams of(double alpha, double beta, double delta, double gamma) {
    return new ShapingParams(alpha, beta, delta, gamma, OptionalDouble.empty());
  }

  /**
   * The parameters as the reference's dictionary: keys {@code input_scale}, {@code input_shift},
   * {@code output_shift}, {@code output_scale}, {@code negative_slope}, in that order, each omitted
   * where the operation is the identity (scale exactly 1, shift exactly 0, no slope).
   */
  public Map<String, Double> asMap() {
    Map<String, Double> m = new LinkedHashMap<>();
    if (inputScale != 1.0) {
      m.put(INPUT_SCALE, inputScale);
    }
    if (inputShift != 0.0) {
      m.put(INPUT_SHIFT, inputShift);
    }
    if (outputShift != 0.0) {
      m.put(OUTPUT_SHIFT, outputShift);
    }
    if (outputScale != 1.0) {
      m.put(OUTPUT_SCALE, outputScale);
    }
    negativeSlope.ifPresent(s -> m.put(NEGATIVE_SLOPE, s));
    return m;
  }

  /** A copy with another output shift. */
  public ShapingParams withOutputShift(double delta) {
    return new ShapingParams(inputScale, inputShift, delta, outputScale, negativeSlope);
  }

  /** A copy with another output scale. */
  public ShapingParams withOutputScale(double gamma) {
    return new ShapingParams(inputScale, inputShift, outputShift, gamma, negativeSlope);
  }

  /** A copy with another input shift. */
  public ShapingParams withInputShift(double beta) {
    return new ShapingParams(inputScale, beta, outputShift, outputScale, negativeSlope);
  }
}
