package dev.dks.rewriter.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.activation.ActivationEmitter;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.activation.ShapingParams;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;

/**
 * Sin is an activation only where the model declares it (its shaping record's sites), since real
 * models compute geometry with it; bent identity, as {@link ActivationEmitter} writes it, is
 * recognized by its form. Both emitted shaped, as {@code dks build} writes them (DKS parameters
 * of a depth-20 MLP).
 */
class DeclaredActivationsTest {
  private static final ShapingParams SIN = ShapingParams.of(0.1431, 0.9586, -0.8100, 12.158);
  private static final ShapingParams BENTID = ShapingParams.of(0.5500, 0.0941, -0.1606, 1.7381);

  /** x -> shaped activation -> Identity y; returns the graph. */
  private static GraphView emitted(String activation, ShapingParams p) {
    GraphView g = GraphView.empty();
    g.add(Nodes.op("Placeholder", "x").type("dtype", DataType.DT_FLOAT).build());
    TensorName out = ActivationEmitter.emit(g, "act", TensorName.of("x"),
        Activations.byName(activation), p, DataType.DT_FLOAT);
    g.add(Nodes.op("Identity", "y").input(out).type("T", DataType.DT_FLOAT).build());
    return g;
  }

  @Test
  void sinIsAnActivationOnlyWhereDeclared() {
    GraphView g = emitted("sin", SIN);
    assertEquals("Sin", g.get("act/sin").getOp());
    assertTrue(ActivationMatcher.find(g).isEmpty(), "undeclared Sin is geometry, not an activation");
    assertTrue(ActivationMatcher.find(g, Map.of("act/sin", "cos")).isEmpty(),
        "a declaration of another kind is ignored");
    assertTrue(ActivationMatcher.find(g, Map.of("elsewhere", "sin")).isEmpty());
    List<ActivationSite> s = ActivationMatcher.find(g, Map.of("act/sin", "sin"));
    assertEquals(1, s.size());
    assertEquals("sin", s.get(0).kind());
    assertEquals("act/sin", s.get(0).output());
    assertEquals(TensorName.of("act/input_shift"), s.get(0).input());
  }

  @Test
  void bentIdentityIsRecognizedByItsForm() {
    GraphView g = emitted("bentid", BENTID);
    List<ActivationSite> s = ActivationMatcher.find(g);
    assertEquals(1, s.size(), s.toString());
    assertEquals("bentid", s.get(0).kind());
    assertEquals("act/bentid", s.get(0).output());
    // its input is alpha x + beta: the shaped activation's affine parts stay affine ops
    assertEquals(TensorName.of("act/input_shift"), s.get(0).input());
    assertEquals(6, s.get(0).nodes().size(), s.get(0).nodes().toString());
  }

  @Test
  void squareRootPlusInputWithoutTheBentFormIsNotBentid() {
    // negative control: (sqrt(x^2 + 1) - 1) * 0.25 + x (a quarter, not a half) is not matched
    GraphView g = GraphView.empty();
    g.add(Nodes.op("Placeholder", "x").type("dtype", DataType.DT_FLOAT).build());
    TensorName x = TensorName.of("x");
    TensorName sq = unary(g, "Square", "sq", x);
    TensorName p1 = binary(g, "AddV2", "p1", sq, constant(g, "one", 1f));
    TensorName rt = unary(g, "Sqrt", "rt", p1);
    TensorName m1 = binary(g, "AddV2", "m1", rt, constant(g, "minus_one", -1f));
    TensorName q = binary(g, "Mul", "q", m1, constant(g, "quarter", 0.25f));
    binary(g, "AddV2", "top", q, x);
    assertTrue(ActivationMatcher.find(g).isEmpty());
  }

  private static TensorName unary(GraphView g, String op, String name, TensorName x) {
    g.add(Nodes.op(op, name).input(x).type("T", DataType.DT_FLOAT).build());
    return TensorName.of(name);
  }

  private static TensorName binary(GraphView g, String op, String name, TensorName a,
      TensorName b) {
    g.add(Nodes.op(op, name).input(a).input(b).type("T", DataType.DT_FLOAT).build());
    return TensorName.of(name);
  }

  private static TensorName constant(GraphView g, String name, float v) {
    g.add(Nodes.floatScalar(name, v));
    return TensorName.of(name);
  }
}
