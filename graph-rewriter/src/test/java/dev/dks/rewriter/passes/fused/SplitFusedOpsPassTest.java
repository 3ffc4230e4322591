package dev.dks.rewriter.passes.fused;

import static dev.dks.rewriter.passes.norm.TestGraph.maxAbsDiff;
import static dev.dks.rewriter.passes.norm.TestGraph.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.OpRegistry;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.passes.defaults.FillDefaultAttrsPass;
import dev.dks.rewriter.passes.norm.StripNormalizationPass;
import dev.dks.rewriter.passes.norm.TestGraph;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.pipeline.RewriteContext;
import dev.dks.rewriter.pipeline.StructuralVerifier;
import dev.dks.rewriter.pipeline.TensorFlowVerifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * split-fused: fused contractions built as NodeDefs are split, and the split graph computes what
 * a hand-built unfused reference computes (and what the fused op computes when TF runs it).
 */
class SplitFusedOpsPassTest {
  static final Set<String> FUSED = Set.of("_FusedConv2D", "_FusedMatMul",
      "_FusedDepthwiseConv2dNative");

  /** The fused graph and its unfused reference, sharing weights. */
  record Case(Model fused, Model reference, String input, long[] shape, TestGraph values) {}

  static Case build(String base, String fusedOps) {
    return build(base, fusedOps, false);
  }

  /**
   * {@code referenceDropsLast}: the reference leaves out the last fused op (the activation, or
   * the bias add / batch norm when there is none), a deliberately wrong unfused graph.
   */
  static Case build(String base, String fusedOps, boolean referenceDropsLast) {
    List<String> ops = List.of(fusedOps.split(" "));
    boolean dense = base.equals("MatMul");
    boolean depthwise = base.equals("DepthwiseConv2dNative");
    long[] in = dense ? new long[] {4, 6} : new long[] {2, 5, 5, 3};
    long[] kShape = dense ? new long[] {6, 5} : depthwise ? new long[] {3, 3, 3, 2}
        : new long[] {3, 3, 3, 4};
    int c = dense ? 5 : depthwise ? 6 : 4;
    TestGraph vals = new TestGraph(31);
    String k = vals.normalVariable("k", 0, 0.5, kShape);
    List<String> args = new ArrayList<>();
    if (ops.get(0).equals("BiasAdd")) {
      args.add(vals.normalVariable("bias", 0, 0.5, c));
    } else {
      args.add(vals.uniformVariable("scale", 0.5, 1.5, c));
      args.add(vals.normalVariable("offset", 0, 0.5, c));
      args.add(vals.normalVariable("mean", 0, 0.5, c));
      args.add(vals.uniformVariable("var", 0.5, 2, c));
    }
    String act = ops.size() > 1 ? ops.get(1) : null;

    // fused graph
    TestGraph f = copyOf(vals, in);
    Nodes.Builder fb = Nodes.op("_Fused" + base, "fused").input("x").input(k)
        .type("T", DataType.DT_FLOAT)
        .attr("num_args", AttrValue.newBuilder().setI(args.size()).build())
        .attr("fused_ops", TestGraph.strings(ops.toArray(new String[0])))
        .attr("epsilon", 1e-3f);
    args.forEach(fb::input);
    if (!dense) {
      fb.attr("strides", TestGraph.ints(1, 1, 1, 1)).attr("padding", "SAME");
    }
    if (base.equals("Conv2D")) {
      AttrValue.ListValue.Builder types = AttrValue.ListValue.newBuilder();
      args.forEach(a -> types.addType(DataType.DT_FLOAT));
      fb.attr("TArgs", AttrValue.newBuilder().setList(types).build());
    }
    if ("LeakyRelu".equals(act)) {
      fb.attr("leakyrelu_alpha", 0.3f);
    }
    f.add(fb.build());
    f.op("Identity", "y", "fused");

    // reference: the same computation from standard ops
    TestGraph r = copyOf(vals, in);
    String h = switch (base) {
      case "Conv2D" -> r.conv("conv", "x", k);
      case "DepthwiseConv2dNative" -> r.depthwise("conv", "x", k);
      default -> r.op("MatMul", "conv", "x", k);
    };
    if (referenceDropsLast && act == null) {
      // the contraction alone
    } else if (args.size() == 1) {
      h = r.op("BiasAdd", "bias_add", h, args.get(0));
    } else {
      h = r.fusedBatchNorm("FusedBatchNormV3", "bn", h, args.get(0), args.get(1), args.get(2),
          args.get(3), 1e-3f, false);
    }
    if (act != null && !referenceDropsLast) {
      NodeDef.Builder a = Nodes.op(act, "act").input(h).type("T", DataType.DT_FLOAT).build()
          .toBuilder();
      if (act.equals("LeakyRelu")) {
        a.putAttr("alpha", AttrValue.newBuilder().setF(0.3f).build());
      }
      h = r.add(a.build());
    }
    r.op("Identity", "y", h);
    return new Case(f.model("x", in, "y"), r.model("x", in, "y"), "x", in, vals);
  }

  private static TestGraph copyOf(TestGraph vals, long[] in) {
    TestGraph t = new TestGraph(0);
    long[] ph = in.clone();
    ph[0] = -1;
    t.placeholder("x", ph);
    vals.variables().forEach((name, v) -> t.variable(name, TensorProtos.shape(v),
        TensorProtos.floats(v)));
    return t;
  }

  static Pipeline.Result split(Model m) {
    // the fused ops have no C++ gradient: the gradient check runs on the result only
    Pipeline.Result r = Pipeline.builder().add(new FillDefaultAttrsPass())
        .add(new SplitFusedOpsPass()).verifier(new StructuralVerifier())
        .verifier(new TensorFlowVerifier(false)).build().run(m);
    TestGraph.verifyAccepted(r.model());
    return r;
  }

  /**
   * Split vs unfused reference: the same float32 ops, measured 0 in every case; a
   * reference that leaves out the last fused op misses by 0.81 or more.
   */
  static final double SPLIT_TOLERANCE = 1e-5;

  @ParameterizedTest
  @CsvSource({"Conv2D,BiasAdd,BiasAdd", "Conv2D,BiasAdd Relu,Relu",
      "Conv2D,BiasAdd LeakyRelu,LeakyRelu", "Conv2D,FusedBatchNorm Relu6,Relu6",
      "Conv2D,FusedBatchNorm,FusedBatchNormV3", "MatMul,BiasAdd Elu,Elu",
      "MatMul,BiasAdd Tanh,Tanh", "DepthwiseConv2dNative,BiasAdd Relu6,Relu6"})
  void splitComputesWhatTheUnfusedReferenceComputes(String base, String ops, String lastOp) {
    Assumptions.assumeTrue(OpRegistry.get().contains("_Fused" + base),
        "_Fused" + base + " is not registered in this TensorFlow runtime");
    Case c = build(base, ops);
    Pipeline.Result r = split(c.fused());
    GraphView g = GraphView.of(r.model().graph());
    assertFalse(TestGraph.hasAny(r.model().graph(), FUSED), TestGraph.ops(r.model().graph())
        .toString());
    assertEquals(lastOp, g.get("fused").getOp(), "the last op keeps the fused node's name");
    assertEquals("fused", g.get("y").getInput(0), "consumers need no rewiring");
    assertTrue(g.contains("fused/" + base), g.nodes().stream().map(NodeDef::getName).toList()
        .toString());
    PassOutcome o = r.outcomes().get(1);
    assertEquals(1, o.changes(), o.notes().toString());

    TensorProto x = c.values().randomInput(c.shape());
    float[] want = run(c.reference(), "x", x, "y");
    float[] got = run(r.model(), "x", x, "y");
    assertTrue(maxAbsDiff(want, got) < SPLIT_TOLERANCE, "split vs reference: "
        + maxAbsDiff(want, got));
    assertTrue(TestGraph.maxAbs(want) > 0.1);
    // negative control: a reference without the last fused op
    float[] wrong = run(build(base, ops, true).reference(), "x", x, "y");
    assertTrue(maxAbsDiff(wrong, got) > 100 * SPLIT_TOLERANCE,
        "a reference without " + lastOp + " must miss: " + maxAbsDiff(wrong, got));
  }

  @Test
  void theFusedOpItselfAgreesWhereTheCpuRunsIt() {
    Case c = build("Conv2D", "BiasAdd Relu");
    TensorProto x = c.values().randomInput(c.shape());
    float[] fused = run(c.fused(), "x", x, "y");
    float[] split = run(split(c.fused()).model(), "x", x, "y");
    assertTrue(maxAbsDiff(fused, split) < 1e-4, "fused vs split: " + maxAbsDiff(fused, split));
  }

  @Test
  void splitThenFoldLeavesOnlyConvBiasAndActivation() {
    Case c = build("Conv2D", "FusedBatchNorm Relu6");
    Pipeline.Result r = Pipeline.builder().add(new FillDefaultAttrsPass())
        .add(new SplitFusedOpsPass())
        .add(new StripNormalizationPass(StripNormalizationPass.Mode.FOLD))
        .verifier(new StructuralVerifier()).verifier(new TensorFlowVerifier(false)).build()
        .run(c.fused());
    TestGraph.verifyAccepted(r.model());
    assertEquals(Set.of("Placeholder", "VariableV2", "Conv2D", "BiasAdd", "Relu6", "Identity"),
        TestGraph.ops(r.model().graph()).keySet());
    TensorProto x = c.values().randomInput(c.shape());
    double d = maxAbsDiff(run(c.reference(), "x", x, "y"), run(r.model(), "x", x, "y"));
    assertTrue(d < 1e-4, "max abs diff " + d);
  }

  @Test
  void unknownFusedOpsAreLeftAloneWithANote() {
    TestGraph t = new TestGraph(1);
    t.placeholder("x", -1, 6);
    t.normalVariable("k", 0, 0.5, 6, 5);
    t.normalVariable("b", 0, 0.5, 5);
    t.add(Nodes.op("_FusedMatMul", "fused").input("x").input("k").input("b")
        .type("T", DataType.DT_FLOAT).attr("num_args", AttrValue.newBuilder().setI(1).build())
        .attr("fused_ops", TestGraph.strings("BiasAdd", "GeluExact")).build());
    RewriteContext ctx = new RewriteContext(GraphView.of(t.graph()), t.variables(),
        List.of("fused"));
    PassOutcome o = new SplitFusedOpsPass().run(ctx);
    assertEquals(0, o.changes());
    assertTrue(o.notes().get(0).contains("'fused'") && o.notes().get(0).contains("GeluExact"),
        o.notes().toString());
    assertEquals("_FusedMatMul", ctx.graph().get("fused").getOp());
  }

  @Test
  void controlInputsMoveToTheContraction() {
    Case c = build("MatMul", "BiasAdd Relu");
    GraphView g = GraphView.of(c.fused().graph());
    g.add(Nodes.op("NoOp", "before").build());
    g.put(g.get("fused").toBuilder().addInput("^before").build());
    RewriteContext ctx = new RewriteContext(g, c.fused().variables(), List.of("y"));
    new SplitFusedOpsPass().run(ctx);
    assertEquals(List.of("x", "k", "^before"), ctx.graph().get("fused/MatMul").getInputList());
    assertEquals(List.of("fused/BiasAdd"), ctx.graph().get("fused").getInputList());
  }
}
