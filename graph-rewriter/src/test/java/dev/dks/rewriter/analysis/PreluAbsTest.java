package dev.dks.rewriter.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.DksRewrite;
import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.testing.DenseNets;
import dev.dks.solver.solve.DksTargets;
import dev.dks.solver.solve.ShapingSolution;
import dev.dks.solver.solve.TatTargets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

/**
 * PReLU written with Abs (mobilefacenet: {@code relu(x) + a (x - |x|)}, and that tail on a ReLU
 * output where the TF.js converter fused the PReLU's Relu into the convolution). Site detection
 * and the function each form computes are checked against the formulas in Java; then the rewrite
 * is measured: q where the next layer reads, over 512 Gaussian inputs at width 128, is 1 (TAT's
 * TReLU has Q(q) = q; the per-location normalization makes the input q 1). Negative control: with
 * an Identity between the Relu and its tail the tail is not matched and stays after the shaped
 * leaky ReLU phi = g lrelu_s; the measured q is then the closed form {@code (1 + (1 + 2a)^2 s^2)
 * / (1 + s^2)} (phi + 2a min(phi, 0) is g z for z >= 0 and g s (1 + 2a) z below), 1.11 here,
 * which the check tells from 1: that was mobilefacenet's q growth.
 */
class PreluAbsTest {
  private static final int WIDTH = 128;
  private static final float A = 0.5f;
  private static final String Z = "dense1/BiasAdd";

  private enum Form { PRELU, RELU_TAIL, RELU_TAIL_THROUGH_IDENTITY }

  private static Model net(Form f) {
    DenseNets n = new DenseNets(WIDTH);
    n.dense(TensorName.of("input"));
    n.g.add(Nodes.floatScalar("p/alpha", A));
    String x = Z;
    String pos;
    if (f == Form.PRELU) {
      op(n, "Relu", "p/relu", Z);
      pos = "p/relu";
    } else {
      op(n, "Relu", "p/relu", Z);
      x = "p/relu";
      if (f == Form.RELU_TAIL_THROUGH_IDENTITY) {
        op(n, "Identity", "p/read", "p/relu");
        x = "p/read";
      }
      pos = x;
    }
    op(n, "Abs", "p/abs", x);
    op(n, "Sub", "p/sub", x, "p/abs");
    op(n, "Mul", "p/mul", "p/sub", "p/alpha");
    op(n, "Add", "p", pos, "p/mul");
    return n.model(n.dense(TensorName.of("p")));
  }

  private static void op(DenseNets n, String op, String name, String... in) {
    Nodes.Builder b = Nodes.op(op, name).type("T", DataType.DT_FLOAT);
    for (String i : in) {
      b.input(i);
    }
    n.g.add(b.build());
  }

  private static Map<String, TensorProto> run(Model m, List<String> fetches) {
    try (ModelSession s = new ModelSession(m)) {
      return s.run(Map.of("input", DenseNets.gaussianInput(512, WIDTH, 7)), fetches);
    }
  }

  @Test
  void bothFormsAreOneSiteComputingTheirFunction() {
    for (Form f : List.of(Form.PRELU, Form.RELU_TAIL)) {
      Model m = net(f);
      GraphView g = GraphView.of(m.graph());
      List<ActivationSite> sites = ActivationMatcher.find(g);
      assertEquals(1, sites.size(), f + ": " + sites);
      ActivationSite s = sites.get(0);
      assertEquals(f == Form.PRELU ? "prelu" : "relu", s.kind(), f.toString());
      assertEquals(TensorName.of(Z), s.input(), f.toString());
      assertEquals("p", s.output());
      assertEquals(5, s.nodes().size(), s.nodes().toString());
      Map<String, TensorProto> got = run(m, List.of(Z, "p"));
      float[] z = TensorProtos.floats(got.get(Z));
      float[] y = TensorProtos.floats(got.get("p"));
      int negative = 0;
      for (int i = 0; i < z.length; i++) {
        float want = z[i] >= 0 ? z[i] : f == Form.PRELU ? 2 * A * z[i] : 0f;
        assertEquals(want, y[i], 1e-6f * Math.max(1, Math.abs(want)), f + " at " + i);
        negative += z[i] < 0 ? 1 : 0;
      }
      assertTrue(negative > z.length / 4, "both branches");
    }
  }

  @Test
  void aTailReadThroughAnotherNodeOrOutsideIsNoSite() {
    List<ActivationSite> sites = ActivationMatcher.find(GraphView.of(
        net(Form.RELU_TAIL_THROUGH_IDENTITY).graph()));
    assertEquals(List.of("relu"), sites.stream().map(ActivationSite::kind).toList());
    assertEquals(List.of("p/relu"), sites.get(0).nodes(), "the Relu alone");
  }

  @Test
  void theRewriteKeepsQOneAndTheUnmatchedTailDoesNot() {
    // eta 0.2 on one nonlinear layer: TReLU slope s about 0.19, so min(phi, 0) is not zero
    RewriteOptions o = RewriteOptions.defaults().withTargets(DksTargets.defaults(),
        new TatTargets(0.2, TatTargets.DEFAULT_TAU));
    for (Form f : Form.values()) {
      Pipeline.Result r = DksRewrite.pipeline(o).build().run(net(f));
      double s = r.fact(ShapingSolution.class).orElseThrow().get("leaky_relu").params().asMap()
          .get("negative_slope");
      assertTrue(s > 0.1, "slope " + s);
      String read = GraphView.of(r.model().graph()).get("dense2/MatMul").getInput(0);
      float[] v = TensorProtos.floats(run(r.model(), List.of(read)).get(read));
      double q = 0;
      for (float x : v) {
        q += (double) x * x / v.length;
      }
      double want = f == Form.RELU_TAIL_THROUGH_IDENTITY
          ? (1 + (1 + 2 * A) * (1 + 2 * A) * s * s) / (1 + s * s) : 1.0;
      assertEquals(want, q, 0.03, f + ": q at the second layer's input, slope " + s);
    }
  }
}
