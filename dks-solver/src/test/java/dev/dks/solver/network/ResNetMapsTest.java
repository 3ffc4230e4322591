package dev.dks.solver.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.solver.maps.LeakyReluCMap;
import java.util.List;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * ResNets (dks-math.md section 3.1): vanilla v2 bottleneck nets are chains of 16*3+1 (ResNet-50),
 * 33*3+1 (ResNet-101) and 50*3+1 (ResNet-152) layers; with skips, closed forms derived by hand;
 * and the Structure agrees with a transcription of the reference's M.
 */
class ResNetMapsTest {
  @ParameterizedTest(name = "ResNet-{0} v2 w=0 is a chain of {1}")
  @CsvSource({"50, 49", "101, 100", "152, 151", "200, 199"})
  void vanillaV2IsAChain(int depth, int layers) {
    Structure s = Architectures.resnet(depth, 0.0, true);
    NetworkMaps m = NetworkMaps.of(s);
    assertEquals(layers, s.depth());
    for (double x : new double[] {1.0, 1.001, 1.01, 1.1}) {
      assertEquals(Math.pow(x, layers), m.maxSlope(x), 1e-13 * Math.pow(x, layers), "x=" + x);
    }
    for (double x : new double[] {0.01, 0.3, 2}) {
      assertEquals(layers * x, m.maxCurvature(x), 1e-13 * layers * x, "x=" + x);
    }
    // below 1 the single residual branch (3 layers) is the maximal subnetwork
    assertEquals(Math.pow(0.9, 3), m.maxSlope(0.9), 1e-15);
  }

  /**
   * v2 bottleneck with shortcut weight w, by hand: each block maps v to (w^2 a + (1-w^2) x^3) v,
   * a = x for the first (pre-activated projection) block of a group, 1 otherwise; stem affine;
   * one final layer. ResNet-101: 4 first blocks, 29 others. Curvatures add:
   * kappa(x) = x (1 + 4 w^2 + 3 (1 - w^2) 33).
   */
  @Test
  void resnet101WithSkipsClosedForm() {
    double w = 0.6;
    double w2 = w * w;
    NetworkMaps m = NetworkMaps.of(Architectures.resnet(101, w, true));
    for (double x : new double[] {1.0, 1.002, 1.02, 1.3}) {
      double mu = x * Math.pow(w2 * x + (1 - w2) * x * x * x, 4)
          * Math.pow(w2 + (1 - w2) * x * x * x, 29);
      assertEquals(Math.max(mu, x * x * x), m.maxSlope(x), 1e-13 * mu, "x=" + x);
    }
    assertEquals(0.5 * (1 + 4 * w2 + 3 * (1 - w2) * 33), m.maxCurvature(0.5), 1e-13);
    assertEquals(65.8 * 0.5, m.maxCurvature(0.5), 1e-13);
  }

  static List<DoubleUnaryOperator> probes() {
    return List.of(y -> 1.01 * y, y -> 0.02 + y, y -> 0.5 * y * y + 0.3 * y + 0.1,
        new LeakyReluCMap(0.3)::apply, new LeakyReluCMap(0.0)::apply);
  }

  @ParameterizedTest(name = "ResNet-{0} v2 w={1}")
  @CsvSource({"18, 0", "18, 0.5", "34, 0.3", "50, 0", "50, 0.6", "101, 0.6", "101, 1", "152, 0",
      "200, 0.2"})
  void v2StructureEqualsReferenceM(int depth, double w) {
    NetworkMaps m = NetworkMaps.of(Architectures.resnet(depth, w, true));
    for (DoubleUnaryOperator r : probes()) {
      for (double x : new double[] {0.0, 0.5, 1.0}) {
        double expected = ReferenceM.resnet(x, r, depth, w, true);
        assertEquals(expected, m.propagate(x, r), 1e-14 * Math.max(1, Math.abs(expected)));
      }
    }
  }

  /** For v1 the order of the stem activation does not matter to mu and kappa (they commute). */
  @ParameterizedTest(name = "ResNet-{0} v1 w={1}")
  @CsvSource({"18, 0", "34, 0.3", "50, 0.6", "101, 0"})
  void v1SlopeAndCurvatureEqualReferenceM(int depth, double w) {
    NetworkMaps m = NetworkMaps.of(Architectures.resnet(depth, w, false));
    for (double x : new double[] {0.9, 1.0, 1.05}) {
      double mu = ReferenceM.resnet(1.0, y -> x * y, depth, w, false);
      assertEquals(mu, m.maxSlope(x), 1e-13 * mu);
      double kappa = ReferenceM.resnet(0.0, y -> x + y, depth, w, false);
      assertEquals(kappa, m.maxCurvature(x), 1e-13 * kappa);
    }
  }

  /**
   * v1 basic ResNet-18 by hand (stem conv, stem activation, 8 blocks with one activation inside
   * the residual branch and one after the sum): a chain of 1 + 8*2 = 17 layers when w = 0.
   */
  @Test
  void vanillaV1ResNet18IsAChainOf17() {
    Structure s = Architectures.resnet(18, 0.0, false);
    assertEquals(17, s.depth());
    assertEquals(Math.pow(1.1, 17), NetworkMaps.of(s).maxSlope(1.1), 1e-13);
  }

  @Test
  void invalidArguments() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Architectures.resnet(50, 1.5, true));
    assertTrue(e.getMessage().contains("[0, 1]"));
    assertThrows(IllegalArgumentException.class, () -> Architectures.resnet(50, Double.NaN, true));
    IllegalArgumentException d = assertThrows(IllegalArgumentException.class,
        () -> Architectures.resnet(42, 0, true));
    assertTrue(d.getMessage().contains("use one of"), d.getMessage());
  }

  @Test
  void configsAreHeEtAl() {
    assertEquals(List.of(3, 4, 23, 3), java.util.Arrays.stream(ResNetConfig.of(101)
        .blocksPerGroup()).boxed().toList());
    assertTrue(ResNetConfig.of(50).bottleneck());
    assertTrue(!ResNetConfig.of(34).bottleneck());
    assertTrue(!ResNetConfig.of(18).projection()[0]);
    assertTrue(ResNetConfig.of(152).projection()[0]);
    assertEquals(List.of(3, 24, 36, 3), java.util.Arrays.stream(ResNetConfig.of(200)
        .blocksPerGroup()).boxed().toList());
  }
}
