package dev.dks.rewriter.passes.norm;

import static dev.dks.rewriter.passes.norm.BatchNormCondTest.COND_OPS;
import static dev.dks.rewriter.passes.norm.BatchNormCondTest.abs;
import static dev.dks.rewriter.passes.norm.BatchNormCondTest.count;
import static dev.dks.rewriter.passes.norm.BatchNormCondTest.floats;
import static dev.dks.rewriter.passes.norm.BatchNormCondTest.pipeline;
import static dev.dks.rewriter.passes.norm.BatchNormCondTest.plus;
import static dev.dks.rewriter.passes.norm.BatchNormCondTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.DksRewrite;
import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.Pipeline;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;

/**
 * bn-cond on the fused form, as {@code tf.layers.batch_normalization(x, training=is_training)}
 * writes it for a 4-D input (fused by default): a {@code tf.cond} whose true branch is a
 * FusedBatchNormV3 in training form (batch statistics; its mean and variance inputs are empty
 * Consts under the branch's control edge) and whose false branch is one in inference form (the
 * moving averages), every input routed through its own Switch, and a Merge per output (y, mean,
 * variance). The convolutions are 1x1 so that the expected outputs are computed in Java: the
 * inference branch is gamma (h - moving_mean) / sqrt(moving_var + eps) + beta per channel.
 */
class FusedBatchNormCondTest {
  static final int C = 4;
  static final int HW = 3;
  static final int BATCH = 2;
  static final float EPS = 1e-3f;
  static final long[] SHAPE = {BATCH, HW, HW, C};

  final TestGraph t = new TestGraph(21);
  final float[] k1;
  final float[] k2;
  final float[] gamma;
  final float[] beta;
  final float[] movingMean;
  final float[] movingVar;

  FusedBatchNormCondTest() {
    TestGraph r = new TestGraph(22);
    k1 = floats(r.randomInput(C * C));
    k2 = floats(r.randomInput(C * C));
    gamma = plus(floats(r.randomInput(C)), 1.5f, 0.3f);
    beta = plus(floats(r.randomInput(C)), 0, 0.5f);
    movingMean = plus(floats(r.randomInput(C)), 0.2f, 0.7f);
    movingVar = abs(plus(floats(r.randomInput(C)), 2f, 0.5f));
  }

  /** The flag placeholder's name. */
  String flag = "is_training";
  /** Its default (a PlaceholderWithDefault), or null for a plain Placeholder. */
  Boolean flagDefault = false;
  /** The Switch output the inference (stored-statistics) branch reads, 0 for flag false. */
  int storedPort = 0;

  Model model() {
    return model(false);
  }

  /**
   * With {@code keras}, Keras 2's form instead: both FusedBatchNorms outside the cond ({@code
   * normalize_batch_in_training} and {@code normalize_inference}), and {@code
   * K.in_train_phase} choosing between their outputs on the flag.
   */
  Model model(boolean keras) {
    t.placeholder("x", -1, HW, HW, C);
    if (flagDefault == null) {
      t.add(Nodes.op("Placeholder", flag).type("dtype", DataType.DT_BOOL)
          .attr("shape", TestGraph.shape()).build());
    } else {
      t.add(Nodes.constant(flag + "/input", org.tensorflow.proto.TensorProto.newBuilder()
          .setDtype(DataType.DT_BOOL).addBoolVal(flagDefault).build()));
      t.add(Nodes.op("PlaceholderWithDefault", flag).input(flag + "/input")
          .type("dtype", DataType.DT_BOOL).attr("shape", TestGraph.shape()).build());
    }
    t.constant("conv/kernel", new long[] {1, 1, C, C}, k1);
    t.conv("conv/Conv2D", "x", "conv/kernel");
    String s = "bn/";
    t.constant(s + "gamma", new long[] {C}, gamma);
    t.constant(s + "beta", new long[] {C}, beta);
    t.constant(s + "moving_mean", new long[] {C}, movingMean);
    t.constant(s + "moving_variance", new long[] {C}, movingVar);
    for (String p : List.of("gamma", "beta", "moving_mean", "moving_variance")) {
      t.op("Identity", s + p + "/read", s + p);
    }
    String c = s + "cond/";
    if (keras) {
      t.constant(s + "Const", new long[] {0}, new float[0]);
      t.fusedBatchNorm("FusedBatchNormV3", s + "FusedBatchNormV3", "conv/Conv2D",
          s + "gamma/read", s + "beta/read", s + "Const", s + "Const", EPS, true);
      t.fusedBatchNorm("FusedBatchNormV3", s + "FusedBatchNormV3_1", "conv/Conv2D",
          s + "gamma/read", s + "beta/read", s + "moving_mean/read", s + "moving_variance/read",
          EPS, false);
    }
    t.add(Nodes.op("Switch", c + "Switch").input(flag).input(flag)
        .type("T", DataType.DT_BOOL).build());
    t.add(Nodes.op("Identity", c + "switch_t").input(c + "Switch:1")
        .type("T", DataType.DT_BOOL).build());
    t.add(Nodes.op("Identity", c + "switch_f").input(c + "Switch")
        .type("T", DataType.DT_BOOL).build());
    t.add(Nodes.op("Identity", c + "pred_id").input(flag)
        .type("T", DataType.DT_BOOL).build());
    if (keras) {
      t.add(Nodes.op("Switch", c + "Switch_1").input(s + "FusedBatchNormV3_1")
          .input(c + "pred_id").type("T", DataType.DT_FLOAT).build());
      t.add(Nodes.op("Switch", c + "Switch_2").input(s + "FusedBatchNormV3")
          .input(c + "pred_id").type("T", DataType.DT_FLOAT).build());
      t.add(Nodes.op("Merge", c + "Merge").input(c + "Switch_1").input(c + "Switch_2:1")
          .type("T", DataType.DT_FLOAT).attr("N", AttrValue.newBuilder().setI(2).build())
          .build());
      return head(c);
    }
    // training branch: batch statistics, empty mean and variance under its branch's switch_t/f
    List<String> trainIns = switches(c + "FusedBatchNormV3/", 1 - storedPort, "conv/Conv2D",
        s + "gamma/read", s + "beta/read");
    for (String k : List.of("Const", "Const_1")) {
      t.add(Nodes.constant(c + k, dev.dks.rewriter.model.TensorProtos.ofFloats(new long[] {0},
          new float[0])).toBuilder().addInput("^" + c + (storedPort == 0 ? "switch_t" : "switch_f"))
          .build());
    }
    t.fusedBatchNorm("FusedBatchNormV3", c + "FusedBatchNormV3", trainIns.get(0),
        trainIns.get(1), trainIns.get(2), c + "Const", c + "Const_1", EPS, true);
    // inference branch: the moving averages
    List<String> infIns = switches(c + "FusedBatchNormV3_1/", storedPort, "conv/Conv2D",
        s + "gamma/read", s + "beta/read", s + "moving_mean/read", s + "moving_variance/read");
    t.fusedBatchNorm("FusedBatchNormV3", c + "FusedBatchNormV3_1", infIns.get(0),
        infIns.get(1), infIns.get(2), infIns.get(3), infIns.get(4), EPS, false);
    for (int k = 0; k < 3; k++) {
      String suffix = k == 0 ? "" : ":" + k;
      t.add(Nodes.op("Merge", c + "Merge" + (k == 0 ? "" : "_" + k))
          .input(c + "FusedBatchNormV3_1" + suffix).input(c + "FusedBatchNormV3" + suffix)
          .type("T", DataType.DT_FLOAT).attr("N", AttrValue.newBuilder().setI(2).build())
          .build());
    }
    return head(c);
  }

  private Model head(String c) {
    t.op("Relu", "relu", c + "Merge");
    t.constant("conv_1/kernel", new long[] {1, 1, C, C}, k2);
    t.conv("conv_1/Conv2D", "relu", "conv_1/kernel");
    t.op("Identity", "output", "conv_1/Conv2D");
    return t.model("x", new long[] {-1, HW, HW, C}, "output");
  }

  /** One Switch per input, named as tf.cond names them; the outputs on {@code port}. */
  private List<String> switches(String scope, int port, String... values) {
    List<String> out = new java.util.ArrayList<>();
    for (int i = 0; i < values.length; i++) {
      String name = scope + "Switch" + (i == 0 ? "" : "_" + i);
      t.add(Nodes.op("Switch", name).input(values[i]).input("bn/cond/pred_id")
          .type("T", DataType.DT_FLOAT).build());
      out.add(port == 0 ? name : name + ":" + port);
    }
    return out;
  }

  /** 1x1 conv, BN in inference form (when {@code withBn}), ReLU, 1x1 conv, in Java. */
  float[] expected(float[] x, boolean withBn) {
    int pixels = BATCH * HW * HW;
    float[] out = new float[pixels * C];
    for (int p = 0; p < pixels; p++) {
      double[] a = new double[C];
      for (int j = 0; j < C; j++) {
        double h = 0;
        for (int i = 0; i < C; i++) {
          h += (double) x[p * C + i] * k1[i * C + j];
        }
        if (withBn) {
          h = gamma[j] * (h - movingMean[j]) / Math.sqrt(movingVar[j] + (double) EPS) + beta[j];
        }
        a[j] = Math.max(0, h);
      }
      for (int j = 0; j < C; j++) {
        double y = 0;
        for (int i = 0; i < C; i++) {
          y += a[i] * k2[i * C + j];
        }
        out[p * C + j] = (float) y;
      }
    }
    return out;
  }

  @Test
  void theFusedCondBecomesTheInferenceBatchNormAndIsStripped() {
    Model m = model();
    float[] x = floats(new TestGraph(5).randomInput(SHAPE));
    float[] inference = expected(x, true);
    assertEquals(0, TestGraph.maxAbsDiff(run(m, SHAPE, x, null), inference), 1e-4);
    assertTrue(TestGraph.maxAbsDiff(run(m, SHAPE, x, true), inference) > 0.1);

    Pipeline.Result resolved = pipeline(false).run(m);
    PassOutcome o = resolved.outcomes().get(1);
    assertEquals(1, o.changes(), o.toString());
    assertEquals(0, count(resolved.model(), COND_OPS),
        TestGraph.ops(resolved.model().graph()).toString());
    GraphView after = GraphView.of(resolved.model().graph());
    assertFalse(after.contains("bn/cond/FusedBatchNormV3"));
    NodeDef lifted = after.get("bn/cond/FusedBatchNormV3_1");
    assertEquals(List.of("conv/Conv2D", "bn/gamma/read", "bn/beta/read", "bn/moving_mean/read",
        "bn/moving_variance/read"), lifted.getInputList());
    assertEquals(0, TestGraph.maxAbsDiff(run(resolved.model(), SHAPE, x, true), inference), 1e-4);

    Pipeline.Result stripped = pipeline(true).run(m);
    assertEquals(1, stripped.outcomes().get(2).changes(), stripped.outcomes().toString());
    assertFalse(TestGraph.hasAny(stripped.model().graph(),
        Set.of("FusedBatchNormV3", "Switch", "Merge")));
    float[] noBn = expected(x, false);
    assertTrue(TestGraph.maxAbsDiff(noBn, inference) > 0.1);
    assertEquals(0, TestGraph.maxAbsDiff(run(stripped.model(), SHAPE, x, null), noBn), 1e-4);

    Pipeline.Result full = DksRewrite.pipeline(RewriteOptions.defaults()).build().run(m);
    assertEquals(0, count(full.model(), COND_OPS));
    assertEquals(List.of(), full.model().graph().getNodeList().stream().map(NodeDef::getName)
        .filter(n -> n.startsWith("bn/")).toList());
  }

  @Test
  void kerasInTrainPhaseBetweenTwoFusedBatchNormsBecomesTheInferenceOne() {
    Model m = model(true);
    float[] x = floats(new TestGraph(6).randomInput(SHAPE));
    float[] inference = expected(x, true);
    assertEquals(0, TestGraph.maxAbsDiff(run(m, SHAPE, x, null), inference), 1e-4);
    assertTrue(TestGraph.maxAbsDiff(run(m, SHAPE, x, true), inference) > 0.1);

    Pipeline.Result stripped = pipeline(true).run(m);
    assertEquals(1, stripped.outcomes().get(1).changes(), stripped.outcomes().toString());
    assertEquals(1, stripped.outcomes().get(2).changes(), stripped.outcomes().toString());
    assertFalse(TestGraph.hasAny(stripped.model().graph(),
        Set.of("FusedBatchNormV3", "Switch", "Merge")));
    assertEquals(0, TestGraph.maxAbsDiff(run(stripped.model(), SHAPE, x, null),
        expected(x, false)), 1e-4);
  }

  /**
   * Read as a frozen GraphDef, the unread Merges of the batch mean and variance are sinks, so
   * outputs: they stay, as Identity nodes of the inference FusedBatchNorm's outputs 1 and 2.
   */
  @Test
  void mergesThatAreOutputsKeepTheirNames() {
    Model m = model();
    GraphView g = GraphView.of(m.graph());
    PassOutcome o = new BatchNormCondPass().run(new dev.dks.rewriter.pipeline.RewriteContext(g,
        m.variables(), List.of("x"), List.of("output", "bn/cond/Merge_1", "bn/cond/Merge_2")));
    assertEquals(1, o.changes(), o.toString());
    for (int k = 1; k <= 2; k++) {
      NodeDef n = g.get("bn/cond/Merge_" + k);
      assertEquals("Identity", n.getOp());
      assertEquals(List.of("bn/cond/FusedBatchNormV3_1:" + k), n.getInputList());
    }
    assertFalse(g.nodes().stream().anyMatch(n -> COND_OPS.contains(n.getOp())));
  }

  /**
   * An {@code is_inference}-style flag (PlaceholderWithDefault true): the moving-average branch is
   * on Switch output 1 and is what the model serves, so it is the one kept. Negative controls: the
   * same ports with a default of false (served: the batch statistics) are not resolved; with a
   * plain Placeholder, the stored-statistics branch is the inference one on either port.
   */
  @Test
  void anInferenceFlagDefaultingToTrueKeepsTheStoredBranchOnPortOne() {
    flag = "is_inference";
    flagDefault = true;
    storedPort = 1;
    Model m = model();
    float[] x = floats(new TestGraph(7).randomInput(SHAPE));
    float[] inference = expected(x, true);
    assertEquals(0, TestGraph.maxAbsDiff(run(m, SHAPE, x, flag, null), inference), 1e-4);
    assertTrue(TestGraph.maxAbsDiff(run(m, SHAPE, x, flag, false), inference) > 0.1);

    Pipeline.Result resolved = pipeline(false).run(m);
    assertEquals(1, resolved.outcomes().get(1).changes(), resolved.outcomes().toString());
    assertEquals(0, count(resolved.model(), COND_OPS));
    assertFalse(GraphView.of(resolved.model().graph()).contains("bn/cond/FusedBatchNormV3"));
    // fed false (the training branch before), it now serves the moving averages too
    assertEquals(0, TestGraph.maxAbsDiff(run(resolved.model(), SHAPE, x, flag, false),
        inference), 1e-4);
  }

  @Test
  void theStoredBranchMustBeTheServedOneUnlessTheFlagIsFed() {
    flagDefault = false;
    storedPort = 1;
    assertEquals(0, new BatchNormCondMatcher(GraphView.of(model().graph())).find().size());
    FusedBatchNormCondTest plain = new FusedBatchNormCondTest();
    plain.flagDefault = null;
    plain.storedPort = 1;
    assertEquals(1, new BatchNormCondMatcher(GraphView.of(plain.model().graph())).find().size());
    FusedBatchNormCondTest plain0 = new FusedBatchNormCondTest();
    plain0.flagDefault = null;
    assertEquals(1, new BatchNormCondMatcher(GraphView.of(plain0.model().graph())).find().size());
  }
}
