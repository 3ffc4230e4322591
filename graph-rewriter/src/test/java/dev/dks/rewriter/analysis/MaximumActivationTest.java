package dev.dks.rewriter.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.DksRewrite;
import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.kernel.KernelCheck;
import dev.dks.rewriter.kernel.KernelMeasurement;
import dev.dks.rewriter.kernel.KernelReport;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.testing.DenseNets;
import dev.dks.solver.solve.ShapingSolution;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * ReLU as {@code Maximum(x, 0)} and leaky ReLU as {@code Maximum(a x, x)} (Vespa's TF1 MNIST:
 * {@code tf.maximum(0.01 z, z)}), operands in either order, are one activation site each, and
 * the graph computes the function the site names (checked against max(x, 0) and the leaky formula
 * by hand through TensorFlow). Controls: a slope of 1.5, a bound of 0.5, a Maximum of two tensors
 * and an int32 Maximum are no site. End to end: the TAT rewrite of dense -> Maximum leaky ->
 * dense -> Maximum relu -> dense shapes both, and the kernel check (TensorFlow's measured q and c
 * against dks-solver's maps) passes; the same network with shape-activations skipped (the Maximum
 * left raw, as before this matcher) measures q 1/4 at the output (ReLU halves q per layer) where
 * the shaped network's prediction is 1: beyond the check's q tolerance 0.5. (At depth 2 TAT's
 * eta 0.9 is out of reach, so the shaped leaky ReLU is ReLU times sqrt 2 and c alone could not
 * tell them apart.)
 */
class MaximumActivationTest {
  private enum Form { RELU_X0, RELU_0X, LEAKY_AX_X, LEAKY_X_XA, SLOPE_1_5, BOUND_HALF, TWO_TENSORS }

  private static final float A = 0.2f;

  /** dense -> the form -> dense; the form's output node is "m". */
  private static Model net(Form f) {
    DenseNets n = new DenseNets();
    TensorName x = n.dense(TensorName.of("input"));
    n.g.add(Nodes.floatScalar("m/c", switch (f) {
      case RELU_X0, RELU_0X -> 0f;
      case SLOPE_1_5 -> 1.5f;
      case BOUND_HALF -> 0.5f;
      default -> A;
    }));
    String xs = x.toString();
    switch (f) {
      case RELU_X0, BOUND_HALF -> max(n, xs, "m/c");
      case RELU_0X -> max(n, "m/c", xs);
      case LEAKY_AX_X, SLOPE_1_5 -> {
        mul(n, "m/c", xs);
        max(n, "m/mul", xs);
      }
      case LEAKY_X_XA -> {
        mul(n, xs, "m/c");
        max(n, xs, "m/mul");
      }
      case TWO_TENSORS -> max(n, xs, n.dense(TensorName.of("input")).toString());
      default -> throw new IllegalStateException();
    }
    return n.model(n.dense(TensorName.of("m")));
  }

  private static void max(DenseNets n, String a, String b) {
    n.g.add(Nodes.op("Maximum", "m").input(a).input(b).type("T", DataType.DT_FLOAT).build());
  }

  private static void mul(DenseNets n, String a, String b) {
    n.g.add(Nodes.op("Mul", "m/mul").input(a).input(b).type("T", DataType.DT_FLOAT).build());
  }

  @Test
  void everyMaximumFormIsOneSiteComputingItsFunction() {
    for (Form f : List.of(Form.RELU_X0, Form.RELU_0X, Form.LEAKY_AX_X, Form.LEAKY_X_XA)) {
      Model m = net(f);
      List<ActivationSite> sites = ActivationMatcher.find(GraphView.of(m.graph()));
      assertEquals(1, sites.size(), f + ": " + sites);
      ActivationSite s = sites.get(0);
      boolean leaky = f == Form.LEAKY_AX_X || f == Form.LEAKY_X_XA;
      assertEquals(leaky ? "leaky_relu" : "relu", s.kind(), f.toString());
      assertEquals(TensorName.of("dense1/BiasAdd"), s.input(), f.toString());
      assertEquals("m", s.output());
      if (leaky) {
        assertEquals(A, s.parameter(), 1e-7);
        assertEquals(List.of("m", "m/mul"), s.nodes());
      }
      // the function the site names, by hand, against TensorFlow's values
      Map<String, TensorProto> got;
      try (ModelSession session = new ModelSession(m)) {
        got = session.run(Map.of("input", DenseNets.gaussianInput(8, DenseNets.WIDTH, 5)),
            List.of("dense1/BiasAdd", "m"));
      }
      float[] z = TensorProtos.floats(got.get("dense1/BiasAdd"));
      float[] y = TensorProtos.floats(got.get("m"));
      int negatives = 0;
      for (int i = 0; i < z.length; i++) {
        float want = z[i] >= 0 ? z[i] : (leaky ? A * z[i] : 0f);
        negatives += z[i] < 0 ? 1 : 0;
        assertEquals(want, y[i], 1e-6f * Math.max(1f, Math.abs(want)), f + " element " + i);
      }
      assertTrue(negatives > 10 && negatives < z.length - 10, "both branches: " + negatives);
    }
  }

  @Test
  void otherMaximumsAreNoSite() {
    for (Form f : List.of(Form.SLOPE_1_5, Form.BOUND_HALF, Form.TWO_TENSORS)) {
      List<ActivationSite> sites = ActivationMatcher.find(GraphView.of(net(f).graph()));
      assertTrue(sites.isEmpty(), f + ": " + sites);
    }
    GraphView g = GraphView.empty();
    g.add(Nodes.op("Placeholder", "i").type("dtype", DataType.DT_INT32).build());
    g.add(Nodes.constant("zero", TensorProto.newBuilder().setDtype(DataType.DT_INT32)
        .addIntVal(0).build()));
    g.add(Nodes.op("Maximum", "imax").input("i").input("zero").type("T", DataType.DT_INT32)
        .build());
    assertTrue(ActivationMatcher.find(g).isEmpty(), ActivationMatcher.find(g).toString());
  }

  /** dense -> leaky Maximum (x first) -> dense -> relu Maximum (0 first) -> dense, width 64. */
  private static Model twoMaximumLayers() {
    DenseNets n = new DenseNets(64);
    TensorName z1 = n.dense(TensorName.of("input"));
    n.g.add(Nodes.floatScalar("slope", 0.01f));
    n.g.add(Nodes.floatScalar("zero", 0f));
    n.g.add(Nodes.op("Mul", "h1/mul").input("slope").input(z1.toString())
        .type("T", DataType.DT_FLOAT).build());
    n.g.add(Nodes.op("Maximum", "h1").input(z1.toString()).input("h1/mul")
        .type("T", DataType.DT_FLOAT).build());
    TensorName z2 = n.dense(TensorName.of("h1"));
    n.g.add(Nodes.op("Maximum", "h2").input("zero").input(z2.toString())
        .type("T", DataType.DT_FLOAT).build());
    return n.model(n.dense(TensorName.of("h2")));
  }

  @Test
  void theRewriteShapesMaximumActivationsAndTheKernelCheckPasses() {
    Model raw = twoMaximumLayers();
    Pipeline.Result shaped = DksRewrite.pipeline(RewriteOptions.defaults()).build().run(raw);
    ShapingSolution solution = shaped.fact(ShapingSolution.class).orElseThrow();
    GraphView g = GraphView.of(shaped.model().graph());
    assertTrue(g.nodes().stream().map(NodeDef::getOp).noneMatch(o -> o.equals("Maximum")),
        "a raw Maximum is left");
    KernelReport ok = KernelCheck.run(shaped.model(), solution, KernelCheck.Options.defaults());
    assertTrue(ok.passed(), ok.toText());

    // control: the same rewrite with the activations left raw (what the model was before this
    // matcher) measures c at the output far from the shaped prediction at input c 0
    Pipeline.Result unshaped = DksRewrite.pipeline(RewriteOptions.defaults())
        .skip("shape-activations").build().run(twoMaximumLayers());
    KernelReport left = KernelCheck.run(unshaped.model(), solution, KernelCheck.Options.defaults());
    KernelMeasurement want = outputAtC0(ok);
    KernelMeasurement got = outputAtC0(left);
    assertEquals(1.0, want.predictedQ(), 1e-9, ok.toText());
    assertEquals(want.predictedQ(), want.measuredQ(), 0.1, ok.toText());
    // two ReLU layers without the shaped output scale sqrt 2: q halves per layer (1/4); the
    // check's q tolerance is 0.5
    assertEquals(0.25, got.measuredQ(), 0.05, "raw q at the output");
    assertTrue(want.predictedQ() - got.measuredQ() > 0.5, "raw q " + got.measuredQ());
  }

  private static KernelMeasurement outputAtC0(KernelReport r) {
    return r.rows().stream().filter(m -> m.tensor().equals("output") && m.inputC() == 0)
        .findFirst().orElseThrow(() -> new AssertionError(r.toText()));
  }
}
