package dev.dks.rewriter.activation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.OpRegistry;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.activation.CustomActivation;
import dev.dks.solver.activation.ShapingParams;
import dev.dks.solver.activation.TransformedActivation;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;

/**
 * The emitted TensorFlow ops compute the solver's activation: TF's float32 result against the
 * double-precision Java formula of dks-solver (an independent implementation) on a grid.
 */
class ActivationEmitterTest {
  private static final int N = 401;

  static Stream<String> names() {
    return Activations.names().stream();
  }

  private static float[] grid() {
    float[] x = new float[N];
    for (int i = 0; i < N; i++) {
      x[i] = -6f + 12f * i / (N - 1);
    }
    return x;
  }

  private static float[] runEmitted(Activation base, ShapingParams p, float[] x) {
    GraphView g = GraphView.empty();
    g.add(Nodes.op("Placeholder", "x").type("dtype", DataType.DT_FLOAT).build());
    TensorName out = ActivationEmitter.emit(g, "act", TensorName.of("x"), base, p,
        DataType.DT_FLOAT);
    g.add(Nodes.op("Identity", "y").input(out).type("T", DataType.DT_FLOAT).build());
    for (NodeDef n : g.nodes()) {
      assertTrue(OpRegistry.get().contains(n.getOp()), n.getOp());
    }
    Model m = new Model(g.toGraphDef(), Map.of(), List.of());
    try (ModelSession s = new ModelSession(m)) {
      return TensorProtos.floats(s.run(Map.of("x", TensorProtos.ofFloats(new long[] {N}, x)),
          List.of("y")).get("y"));
    }
  }

  private static void assertMatches(Activation expected, float[] x, float[] y) {
    for (int i = 0; i < N; i++) {
      double want = expected.value(x[i]);
      assertEquals(want, y[i], 2e-6 * Math.max(1.0, Math.abs(want)) * 4,
          expected + " at x = " + x[i]);
    }
  }

  @ParameterizedTest
  @MethodSource("names")
  void rawActivationMatchesSolverFormula(String name) {
    Activation a = Activations.byName(name);
    float[] x = grid();
    assertMatches(a, x, runEmitted(a, ShapingParams.IDENTITY, x));
  }

  @ParameterizedTest
  @MethodSource("names")
  void shapedActivationMatchesSolverFormula(String name) {
    Activation a = Activations.byName(name);
    ShapingParams p = name.equals("leaky_relu")
        ? new ShapingParams(0.7, 0.2, -0.3, 1.3, OptionalDouble.of(0.25))
        : ShapingParams.of(0.7, 0.2, -0.3, 1.3);
    float[] x = grid();
    assertMatches(new TransformedActivation(a, p), x, runEmitted(a, p, x));
  }

  @Test
  void identityParamsEmitNoExtraNodes() {
    GraphView g = GraphView.empty();
    g.add(Nodes.op("Placeholder", "x").type("dtype", DataType.DT_FLOAT).build());
    ActivationEmitter.emit(g, "act", TensorName.of("x"), Activations.byName("tanh"),
        DataType.DT_FLOAT);
    assertEquals(2, g.size()); // the placeholder and one Tanh
  }

  @Test
  void customActivationIsRefusedByName() {
    GraphView g = GraphView.empty();
    Activation c = CustomActivation.smooth("my_act", Math::tanh, v -> 1, v -> 0);
    UnsupportedActivationOpException e = assertThrows(UnsupportedActivationOpException.class,
        () -> ActivationEmitter.emit(g, "act", TensorName.of("x"), c, DataType.DT_FLOAT));
    assertTrue(e.getMessage().contains("my_act"));
  }
}
