package dev.dks.rewriter.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.testing.DenseNets;
import dev.dks.solver.network.NetworkMaps;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

/**
 * PReLU written as {@code Maximum(0, x) + alpha * Minimum(0, x)} (mobileface, as the TF.js
 * converter wrote an MXNet model; constants first) is one activation site of kind prelu: the
 * graph computes x for x >= 0 and alpha x elsewhere (checked against that formula by hand), and
 * dense -> prelu -> dense has the slope map of one nonlinear layer. Controls: a Minimum against
 * 1 (a clip, not the negative part), an alpha computed from x (a gate, not a slope) and a Maximum
 * and Minimum of different tensors are no PReLU.
 */
class PreluMaxMinTest {
  private enum Variant { PRELU, MIN_AGAINST_ONE, ALPHA_FROM_X, OTHER_TENSOR }

  private static final float[] ALPHA = alpha();

  private static float[] alpha() {
    float[] a = new float[DenseNets.WIDTH];
    for (int i = 0; i < a.length; i++) {
      a[i] = -0.5f + i / 10f; // per channel, some negative as in mobileface
    }
    return a;
  }

  private record Built(DenseNets n, Model m) {}

  private static Built net(Variant v) {
    DenseNets n = new DenseNets();
    TensorName x = n.dense(TensorName.of("input"));
    TensorName other = n.dense(TensorName.of("input"));
    n.g.add(Nodes.floatScalar("p/max_zero", 0f));
    n.g.add(Nodes.floatScalar("p/min_bound", v == Variant.MIN_AGAINST_ONE ? 1f : 0f));
    n.g.add(Nodes.op("Maximum", "p/max").input("p/max_zero").input(x)
        .type("T", DataType.DT_FLOAT).build());
    n.g.add(Nodes.op("Minimum", "p/min").input("p/min_bound")
        .input(v == Variant.OTHER_TENSOR ? other : x).type("T", DataType.DT_FLOAT).build());
    if (v == Variant.ALPHA_FROM_X) {
      n.g.add(Nodes.op("Square", "p/alpha").input(x).type("T", DataType.DT_FLOAT).build());
    } else {
      n.g.add(Nodes.constant("p/alpha", TensorProtos.ofFloats(new long[] {DenseNets.WIDTH},
          ALPHA)));
    }
    n.g.add(Nodes.op("Mul", "p/scaled").input("p/alpha").input("p/min")
        .type("T", DataType.DT_FLOAT).build());
    n.g.add(Nodes.op("AddV2", "p").input("p/max").input("p/scaled")
        .type("T", DataType.DT_FLOAT).build());
    Model m = n.model(n.dense(TensorName.of("p")));
    return new Built(n, m);
  }

  private static NetworkAnalysis analyze(Built b) {
    return StructureAnalyzer.analyze(b.n().g, List.of("input"), List.of("output"));
  }

  @Test
  void maximumPlusAlphaTimesMinimumIsOnePreluSite() {
    NetworkAnalysis a = analyze(net(Variant.PRELU));
    assertEquals(1, a.activations().size(), a.activations().toString());
    ActivationSite s = a.activations().get(0);
    assertEquals("prelu", s.kind());
    assertEquals("p", s.output());
    assertEquals(TensorName.of("dense1/BiasAdd"), s.input());
    assertEquals(List.of("p", "p/max", "p/scaled", "p/min"), s.nodes());
    // one nonlinear layer: the network's slope map is the activation's
    assertEquals(1.3, NetworkMaps.of(a.structure()).maxSlope(1.3), 1e-12);
  }

  @Test
  void theMatchedFormComputesPrelu() {
    Model m = net(Variant.PRELU).m();
    TensorProto in = DenseNets.gaussianInput(8, DenseNets.WIDTH, 3);
    Map<String, TensorProto> got;
    try (ModelSession s = new ModelSession(m)) {
      got = s.run(Map.of("input", in), List.of("dense1/BiasAdd", "p"));
    }
    float[] x = TensorProtos.floats(got.get("dense1/BiasAdd"));
    float[] p = TensorProtos.floats(got.get("p"));
    int negatives = 0;
    for (int i = 0; i < x.length; i++) {
      float a = ALPHA[i % DenseNets.WIDTH];
      float want = x[i] >= 0 ? x[i] : a * x[i];
      negatives += x[i] < 0 ? 1 : 0;
      assertEquals(want, p[i], 1e-6f * Math.max(1f, Math.abs(want)), "element " + i);
    }
    assertTrue(negatives > 10 && negatives < x.length - 10, "both branches: " + negatives);
  }

  @Test
  void clipsGatesAndMixedTensorsAreNoPrelu() {
    for (Variant v : List.of(Variant.MIN_AGAINST_ONE, Variant.ALPHA_FROM_X,
        Variant.OTHER_TENSOR)) {
      NetworkAnalysis a = analyze(net(v));
      assertTrue(a.activations().stream().noneMatch(s -> s.kind().equals("prelu")),
          v + ": " + a.activations());
    }
  }
}
