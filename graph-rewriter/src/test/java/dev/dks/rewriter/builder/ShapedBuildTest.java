package dev.dks.rewriter.builder;

import static dev.dks.rewriter.builder.BuilderTesting.count;
import static dev.dks.rewriter.builder.BuilderTesting.floatConst;
import static dev.dks.rewriter.builder.BuilderTesting.has;
import static dev.dks.rewriter.builder.BuilderTesting.node;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.activation.ShapingParams;
import dev.dks.solver.maps.LeakyReluCMap;
import dev.dks.solver.network.Architectures;
import dev.dks.solver.network.NetworkMaps;
import dev.dks.solver.network.Structure;
import dev.dks.solver.solve.DksTargets;
import dev.dks.solver.solve.Method;
import dev.dks.solver.solve.ShapingException;
import dev.dks.solver.solve.ShapingSolver;
import dev.dks.solver.solve.TatTargets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * Shaped builds hold exactly the constants dks-solver returns for the structure the builder
 * declares, and that structure agrees with {@link Architectures}.
 */
class ShapedBuildTest {
  private static ShapingParams solve(Method method, String activation, Structure s) {
    return ShapingSolver.solve(method, List.of(Activations.byName(activation)),
        NetworkMaps.of(s), DksTargets.defaults(), TatTargets.defaults())
        .get(Activations.byName(activation).id()).params();
  }

  @Test
  void dksPlainCnnActivationsHoldTheSolversConstants() {
    int depth = 8;
    BuiltModel m = ModelBuilder.build(ArchitectureSpec.builder(Architecture.PLAIN_CNN, depth)
        .width(8).activation("tanh").shaped(Method.DKS).build());
    ShapingParams p = solve(Method.DKS, "tanh", Architectures.plainChain(depth));
    GraphDef g = m.model().graph();
    List<LayerInfo> acts = m.layers(LayerInfo.Kind.ACTIVATION);
    assertEquals(depth, acts.size());
    assertEquals(depth, count(g, "Tanh"));
    for (LayerInfo a : acts) {
      String s = a.name();
      assertEquals((float) p.inputScale(), floatConst(g, s + "/input_scale/value"), s);
      assertEquals((float) p.inputShift(), floatConst(g, s + "/input_shift/value"), s);
      assertEquals((float) p.outputShift(), floatConst(g, s + "/output_shift/value"), s);
      assertEquals((float) p.outputScale(), floatConst(g, s + "/output_scale/value"), s);
      // gamma * (tanh(alpha * x + beta) + delta), in that order
      assertEquals(s.replace("/act", "/BiasAdd"), node(g, s + "/input_scale").getInput(0));
      assertEquals(s + "/input_scale", node(g, s + "/input_shift").getInput(0));
      assertEquals(s + "/input_shift", node(g, s + "/tanh").getInput(0));
      assertEquals(s + "/tanh", node(g, s + "/output_shift").getInput(0));
      assertEquals(s + "/output_shift", node(g, s + "/output_scale").getInput(0));
      assertEquals(TensorName.of(s + "/output_scale"), a.output());
    }
    assertEquals("conv_1/act/output_scale", node(g, "conv_2/Conv2D").getInput(0));
    assertEquals(p, m.activationParams());
  }

  @Test
  void tatLeakyReluPlainCnnHoldsSlopeAndScale() {
    // eta = 0.9 needs depth: 10 layers cannot reach it (the solver says so), 30 can
    BuiltModel m = ModelBuilder.build(ArchitectureSpec.builder(Architecture.PLAIN_CNN, 30)
        .width(2).activation("leaky_relu").shaped(Method.TAT).build());
    ShapingParams p = solve(Method.TAT, "leaky_relu", Architectures.plainChain(30));
    GraphDef g = m.model().graph();
    for (LayerInfo a : m.layers(LayerInfo.Kind.ACTIVATION)) {
      NodeDef lrelu = node(g, a.name() + "/leaky_relu");
      assertEquals((float) p.negativeSlope().getAsDouble(), lrelu.getAttrOrThrow("alpha").getF());
      assertEquals((float) p.outputScale(), floatConst(g, a.name() + "/output_scale/value"));
      assertFalse(has(g, a.name() + "/input_scale"), "alpha = 1 emits nothing");
    }
    assertEquals(30, count(g, "LeakyRelu"));
  }

  @Test
  void tatSmoothMlpHoldsTheSolversConstants() {
    BuiltModel m = ModelBuilder.build(ArchitectureSpec.builder(Architecture.MLP, 5).width(8)
        .activation("softplus").shaped(Method.TAT).build());
    ShapingParams p = solve(Method.TAT, "softplus", Architectures.plainChain(5));
    GraphDef g = m.model().graph();
    for (LayerInfo a : m.layers(LayerInfo.Kind.ACTIVATION)) {
      assertEquals((float) p.inputScale(), floatConst(g, a.name() + "/input_scale/value"));
      assertEquals((float) p.inputShift(), floatConst(g, a.name() + "/input_shift/value"));
      assertEquals((float) p.outputShift(), floatConst(g, a.name() + "/output_shift/value"));
      assertEquals((float) p.outputScale(), floatConst(g, a.name() + "/output_scale/value"));
    }
  }

  @Test
  void shapedResNetMergesAreNormalizedSums() {
    BuiltModel m = ModelBuilder.build(ArchitectureSpec.builder(Architecture.RESNET, 18).width(4)
        .input("32x32x3").activation("leaky_relu").shaped(Method.TAT).shortcutWeight(0.5)
        .build());
    GraphDef g = m.model().graph();
    List<LayerInfo> merges = m.layers(LayerInfo.Kind.MERGE);
    assertEquals(8, merges.size());
    for (LayerInfo merge : merges) {
      String s = merge.name();
      assertEquals(0.5f, floatConst(g, s + "/shortcut_weight"), s);
      assertEquals((float) Math.sqrt(0.75), floatConst(g, s + "/residual_weight"), s);
      NodeDef add = node(g, s + "/add");
      assertEquals("AddV2", add.getOp());
      assertEquals(List.of(s + "/shortcut_mul", s + "/residual_mul"), add.getInputList());
      assertEquals(List.of(s + "/shortcut_weight"), node(g, s + "/shortcut_mul").getInputList()
          .subList(1, 2));
    }
    ShapingParams p = solve(Method.TAT, "leaky_relu", Architectures.resnet(18, 0.5, true));
    assertEquals(p, m.activationParams());
    for (LayerInfo a : m.layers(LayerInfo.Kind.ACTIVATION)) {
      assertEquals((float) p.negativeSlope().getAsDouble(),
          node(g, a.name() + "/leaky_relu").getAttrOrThrow("alpha").getF(), a.name());
    }
  }

  /** w = 0: no merge, no projection; ResNet-18 v2 is then a chain of 8 * 2 + 1 = 17 layers. */
  @Test
  void shortcutWeightZeroDropsTheSkips() {
    BuiltModel m = ModelBuilder.build(ArchitectureSpec.builder(Architecture.RESNET, 18).width(4)
        .activation("tanh").shaped(Method.DKS).build());
    GraphDef g = m.model().graph();
    assertTrue(m.layers(LayerInfo.Kind.MERGE).isEmpty());
    assertTrue(g.getNodeList().stream().noneMatch(n -> n.getName().contains("shortcut")
        || n.getName().contains("merge")));
    assertEquals(1 + 16, count(g, "Conv2D"));
    assertEquals(17, count(g, "Tanh"));
    ShapingParams chain = solve(Method.DKS, "tanh", Architectures.plainChain(17));
    ShapingParams resnet = solve(Method.DKS, "tanh", Architectures.resnet(18, 0.0, true));
    assertEquals(resnet, m.activationParams());
    assertEquals(chain.inputScale(), m.activationParams().inputScale(), 1e-9);
    assertEquals(chain.outputScale(), m.activationParams().outputScale(), 1e-9);
  }

  @Test
  void declaredStructureAgreesWithArchitectures() {
    double[] slopes = {1.01, 1.1, 1.5};
    double[] curvatures = {0.01, 0.1};
    double[] leakySlopes = {0.1, 0.5};
    for (int depth : new int[] {18, 34, 50, 101}) {
      for (boolean v2 : new boolean[] {true, false}) {
        for (double w : new double[] {-1, 0.0, 0.5, 0.8}) {
          ArchitectureSpec.Builder b = ArchitectureSpec.builder(Architecture.RESNET, depth)
              .width(1).input("8x8x1").resnetV2(v2);
          if (w >= 0) {
            b.shortcutWeight(w);
          }
          BuiltModel m = ModelBuilder.build(b.build());
          // w < 0: plain AddV2 merges, declared as normalized sums of weight sqrt(1/2)
          Structure expected = Architectures.resnet(depth, w >= 0 ? w : Math.sqrt(0.5), v2);
          String what = "resnet-" + depth + (v2 ? " v2" : " v1") + " w=" + w;
          assertSameMaps(NetworkMaps.of(expected), m.networkMaps(), slopes, curvatures,
              leakySlopes, what);
        }
      }
    }
    for (Architecture a : List.of(Architecture.MLP, Architecture.PLAIN_CNN)) {
      BuiltModel m = ModelBuilder.build(ArchitectureSpec.builder(a, 7).width(2).input("4x4x1")
          .pooling(a == Architecture.PLAIN_CNN ? Pooling.every(Pooling.Kind.AVG_POOL, 2)
              : Pooling.NONE).build());
      assertSameMaps(NetworkMaps.of(Architectures.plainChain(7)), m.networkMaps(), slopes,
          curvatures, leakySlopes, a.cliName());
    }
  }

  private static void assertSameMaps(NetworkMaps expected, NetworkMaps got, double[] slopes,
      double[] curvatures, double[] leakySlopes, String what) {
    for (double x : slopes) {
      double e = expected.maxSlope(x);
      assertEquals(e, got.maxSlope(x), 1e-12 * e, what + " maxSlope(" + x + ")");
    }
    for (double x : curvatures) {
      double e = expected.maxCurvature(x);
      assertEquals(e, got.maxCurvature(x), 1e-12 * e, what + " maxCurvature(" + x + ")");
    }
    for (double s : leakySlopes) {
      LeakyReluCMap c = new LeakyReluCMap(s);
      assertEquals(expected.maxC0(c::apply), got.maxC0(c::apply), 1e-12,
          what + " maxC0(leaky " + s + ")");
    }
  }

  @Test
  void tatWithReluFailsWithTheSolversMessage() {
    ShapingException e = assertThrows(ShapingException.class, () -> ModelBuilder.build(
        ArchitectureSpec.builder(Architecture.PLAIN_CNN, 4).width(4).shaped(Method.TAT).build()));
    assertTrue(e.getMessage().contains("relu"), e.getMessage());
  }

  /**
   * Q(1) = 1 per layer: through a DKS-shaped tanh MLP of depth 10 and width 512 at
   * initialization, an input of mean square 1 keeps mean square 1 (to a few percent, the
   * finite-width error).
   */
  @Test
  void dksMlpPreservesTheMeanSquareInTensorFlow() {
    BuiltModel m = ModelBuilder.build(ArchitectureSpec.builder(Architecture.MLP, 10).width(512)
        .input("16x16x1").activation("tanh").shaped(Method.DKS).seed(3).build());
    TensorProto x = BuilderTesting.gaussianInput(m.spec().input(), 2, 5);
    float[] v = TensorProtos.floats(x);
    for (int b = 0; b < 2; b++) {
      double ms = 0;
      for (int i = 0; i < 256; i++) {
        ms += v[b * 256 + i] * v[b * 256 + i] / 256.0;
      }
      for (int i = 0; i < 256; i++) {
        v[b * 256 + i] /= (float) Math.sqrt(ms);
      }
    }
    x = TensorProtos.ofFloats(TensorProtos.shape(x), v);
    String last = m.layers(LayerInfo.Kind.ACTIVATION).get(9).output().toString();
    float[] h;
    try (ModelSession s = new ModelSession(m.model())) {
      h = TensorProtos.floats(s.run(Map.of("input", x), List.of(last)).get(last));
    }
    for (int b = 0; b < 2; b++) {
      double ms = 0;
      for (int i = 0; i < 512; i++) {
        ms += h[b * 512 + i] * h[b * 512 + i] / 512.0;
      }
      assertEquals(1.0, ms, 0.1, "mean square after 10 shaped layers, example " + b);
    }
  }
}
