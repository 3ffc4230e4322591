package dev.dks.rewriter.passes.norm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.DksRewrite;
import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.analysis.UnsupportedConstructException;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.passes.defaults.FillDefaultAttrsPass;
import dev.dks.rewriter.passes.norm.StripNormalizationPass.Mode;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.pipeline.StructuralVerifier;
import dev.dks.rewriter.pipeline.TensorFlowVerifier;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.tensorflow.Result;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;

/**
 * bn-cond on a frozen TF1 graph written the way {@code tf.layers.batch_normalization(x,
 * training=is_training)} (unfused, TF 1.5 and later) writes it: {@code tf.nn.moments} of the
 * batch, then for the mean and for the variance a {@code tf.cond} on the bool placeholder (the
 * predicate Switch with switch_t / switch_f, pred_id, one Switch into each branch: the batch
 * statistic on the true side, the moving average's read on the false side, and a Merge), then
 * {@code tf.nn.batch_normalization}. No model in ../shared/models holds this form (their Switch /
 * Merge nodes are a dropout cond and Keras loss asserts), so the graph is built here. The expected
 * outputs are computed in Java from the weights: the inference branch is gamma (h - moving_mean) /
 * sqrt(moving_var + eps) + beta, and after strip-norm the BN is gone (relu(h) straight into the
 * second layer).
 */
class BatchNormCondTest {
  static final int W = 6;
  static final int BATCH = 5;
  static final float EPS = 1e-3f;
  static final Set<String> COND_OPS = Set.of("Switch", "Merge");

  /** The weights, drawn once, and the graph built from them. */
  static final class Net {
    final TestGraph t = new TestGraph(11);
    final float[] k1;
    final float[] b1;
    final float[] k2;
    final float[] b2;
    final float[] gamma;
    final float[] beta;
    final float[] movingMean;
    final float[] movingVar;

    final boolean wholeOutputs;

    Net(boolean dropoutCond) {
      this(dropoutCond, false);
    }

    /**
     * With {@code wholeOutputs}, the cond selects between two whole batch norms of h, as Keras'
     * {@code K.in_train_phase(normed_training, normalize_inference)} writes it, instead of
     * between the statistics.
     */
    Net(boolean dropoutCond, boolean wholeOutputs) {
      this.wholeOutputs = wholeOutputs;
      TestGraph r = new TestGraph(12);
      k1 = floats(r.randomInput(W * W));
      b1 = floats(r.randomInput(W));
      k2 = floats(r.randomInput(W * W));
      b2 = floats(r.randomInput(W));
      gamma = plus(floats(r.randomInput(W)), 1.5f, 0.3f);
      beta = plus(floats(r.randomInput(W)), 0, 0.5f);
      movingMean = plus(floats(r.randomInput(W)), 0.2f, 0.7f);
      movingVar = abs(plus(floats(r.randomInput(W)), 2f, 0.5f));
      t.placeholder("x", -1, W);
      t.add(Nodes.constant("is_training/input", TensorProto.newBuilder()
          .setDtype(DataType.DT_BOOL).addBoolVal(false).build()));
      t.add(Nodes.op("PlaceholderWithDefault", "is_training").input("is_training/input")
          .type("dtype", DataType.DT_BOOL).attr("shape", TestGraph.shape()).build());
      String h = dense("dense", "x", k1, b1);
      String bn = batchNorm(h);
      String a = t.op("Relu", "relu", bn);
      if (dropoutCond) {
        a = dropoutCond(a);
      }
      String y = dense("dense_1", a, k2, b2);
      t.op("Identity", "output", y);
    }

    Model model() {
      return t.model("x", new long[] {-1, W}, "output");
    }

    private String dense(String scope, String x, float[] k, float[] b) {
      t.constant(scope + "/kernel", new long[] {W, W}, k);
      t.op("Identity", scope + "/kernel/read", scope + "/kernel");
      t.constant(scope + "/bias", new long[] {W}, b);
      t.op("Identity", scope + "/bias/read", scope + "/bias");
      t.op("MatMul", scope + "/MatMul", x, scope + "/kernel/read");
      return t.op("BiasAdd", scope + "/BiasAdd", scope + "/MatMul", scope + "/bias/read");
    }

    /** tf.layers.batch_normalization(h, training=is_training), unfused, frozen. */
    private String batchNorm(String h) {
      String s = "batch_normalization/";
      for (String[] p : List.of(new String[] {"gamma"}, new String[] {"beta"},
          new String[] {"moving_mean"}, new String[] {"moving_variance"})) {
        float[] v = switch (p[0]) {
          case "gamma" -> gamma;
          case "beta" -> beta;
          case "moving_mean" -> movingMean;
          default -> movingVar;
        };
        t.constant(s + p[0], new long[] {W}, v);
        t.op("Identity", s + p[0] + "/read", s + p[0]);
      }
      t.ints(s + "moments/mean/reduction_indices", 0);
      t.mean(s + "moments/mean", h, s + "moments/mean/reduction_indices");
      t.op("StopGradient", s + "moments/StopGradient", s + "moments/mean");
      t.op("SquaredDifference", s + "moments/SquaredDifference", h, s + "moments/StopGradient");
      t.ints(s + "moments/variance/reduction_indices", 0);
      t.mean(s + "moments/variance", s + "moments/SquaredDifference",
          s + "moments/variance/reduction_indices");
      t.add(squeeze(s + "moments/Squeeze", s + "moments/mean"));
      t.add(squeeze(s + "moments/Squeeze_1", s + "moments/variance"));
      if (wholeOutputs) {
        String training = bnOps(s + "batchnorm_1/", h, s + "moments/Squeeze",
            s + "moments/Squeeze_1");
        String inference = bnOps(s + "batchnorm/", h, s + "moving_mean/read",
            s + "moving_variance/read");
        return cond(s + "cond/", training, inference);
      }
      String mean = cond(s + "cond/", s + "moments/Squeeze", s + "moving_mean/read");
      String var = cond(s + "cond_1/", s + "moments/Squeeze_1", s + "moving_variance/read");
      return bnOps(s + "batchnorm/", h, mean, var);
    }

    /** tf.nn.batch_normalization(h, mean, var, beta, gamma, EPS) as TF1 writes it. */
    private String bnOps(String b, String h, String mean, String var) {
      String s = "batch_normalization/";
      t.scalar(b + "add/y", EPS);
      t.op("AddV2", b + "add", var, b + "add/y");
      t.op("Rsqrt", b + "Rsqrt", b + "add");
      t.op("Mul", b + "mul", b + "Rsqrt", s + "gamma/read");
      t.op("Mul", b + "mul_1", h, b + "mul");
      t.op("Mul", b + "mul_2", mean, b + "mul");
      t.op("Sub", b + "sub", s + "beta/read", b + "mul_2");
      return t.op("AddV2", b + "add_1", b + "mul_1", b + "sub");
    }

    /** smart_cond(is_training, lambda: batch, lambda: moving) as tf.cond writes it. */
    private String cond(String s, String batch, String moving) {
      predicate(s);
      t.add(Nodes.op("Switch", s + "Switch_1").input(batch).input(s + "pred_id")
          .type("T", DataType.DT_FLOAT).build());
      t.add(Nodes.op("Switch", s + "Switch_2").input(moving).input(s + "pred_id")
          .type("T", DataType.DT_FLOAT).build());
      return merge(s + "Merge", s + "Switch_2", s + "Switch_1:1");
    }

    /** tf.cond(is_training, lambda: a * 2, lambda: a): a dropout-like cond, not a BN. */
    private String dropoutCond(String a) {
      String s = "dropout/cond/";
      predicate(s);
      t.add(Nodes.op("Switch", s + "Switch_1").input(a).input(s + "pred_id")
          .type("T", DataType.DT_FLOAT).build());
      t.scalar(s + "mul/y", 2f);
      t.op("Mul", s + "mul", s + "Switch_1:1", s + "mul/y");
      return merge(s + "Merge", s + "Switch_1", s + "mul");
    }

    private void predicate(String s) {
      t.add(Nodes.op("Switch", s + "Switch").input("is_training").input("is_training")
          .type("T", DataType.DT_BOOL).build());
      t.add(Nodes.op("Identity", s + "switch_t").input(s + "Switch:1")
          .type("T", DataType.DT_BOOL).build());
      t.add(Nodes.op("Identity", s + "switch_f").input(s + "Switch")
          .type("T", DataType.DT_BOOL).build());
      t.add(Nodes.op("Identity", s + "pred_id").input("is_training")
          .type("T", DataType.DT_BOOL).build());
    }

    private String merge(String name, String ifFalse, String ifTrue) {
      return t.add(Nodes.op("Merge", name).input(ifFalse).input(ifTrue)
          .type("T", DataType.DT_FLOAT).attr("N", AttrValue.newBuilder().setI(2).build())
          .build());
    }

    /** The network in Java: the BN's inference branch when {@code withBn}, else no BN. */
    float[] expected(float[] x, boolean withBn) {
      float[] out = new float[BATCH * W];
      for (int n = 0; n < BATCH; n++) {
        double[] a = new double[W];
        for (int j = 0; j < W; j++) {
          double h = b1[j];
          for (int i = 0; i < W; i++) {
            h += (double) x[n * W + i] * k1[i * W + j];
          }
          if (withBn) {
            h = gamma[j] * (h - movingMean[j]) / Math.sqrt(movingVar[j] + (double) EPS)
                + beta[j];
          }
          a[j] = Math.max(0, h);
        }
        for (int j = 0; j < W; j++) {
          double y = b2[j];
          for (int i = 0; i < W; i++) {
            y += a[i] * k2[i * W + j];
          }
          out[n * W + j] = (float) y;
        }
      }
      return out;
    }
  }

  static NodeDef squeeze(String name, String x) {
    return Nodes.op("Squeeze", name).input(x).type("T", DataType.DT_FLOAT)
        .attr("squeeze_dims", TestGraph.ints(0)).build();
  }

  static Pipeline pipeline(boolean strip) {
    Pipeline.Builder b = Pipeline.builder().verifier(new StructuralVerifier())
        .verifier(new TensorFlowVerifier(false)).finalVerifier(new TensorFlowVerifier(true))
        .add(new FillDefaultAttrsPass()).add(new BatchNormCondPass());
    if (strip) {
      b.add(new StripNormalizationPass(Mode.REMOVE));
    }
    return b.build();
  }

  /** The model's output for {@code x} [BATCH, W], the flag fed when not null. */
  static float[] run(Model m, float[] x, Boolean training) {
    return run(m, new long[] {BATCH, W}, x, training);
  }

  /** The model's output for {@code x} of this shape, the flag fed when not null. */
  static float[] run(Model m, long[] shape, float[] x, Boolean training) {
    return run(m, shape, x, "is_training", training);
  }

  /** The same with the flag placeholder {@code flagName}. */
  static float[] run(Model m, long[] shape, float[] x, String flagName, Boolean value) {
    try (ModelSession s = new ModelSession(m);
        TFloat32 xt = TensorProtos.toTensor(TensorProtos.ofFloats(shape, x));
        TBool flag = TBool.scalarOf(Boolean.TRUE.equals(value))) {
      var r = s.session().runner().feed("x", xt);
      if (value != null) {
        r.feed(flagName, flag);
      }
      try (Result res = r.fetch("output").run()) {
        return TensorProtos.floats(TensorProtos.fromTensor(res.get(0)));
      }
    }
  }

  static long count(Model m, Set<String> ops) {
    return m.graph().getNodeList().stream().filter(n -> ops.contains(n.getOp())).count();
  }

  @Test
  void theCondBecomesTheInferenceBranchAndStripNormRemovesTheBn() {
    Net net = new Net(false);
    Model m = net.model();
    float[] x = floats(new TestGraph(3).randomInput(BATCH * W));
    float[] inference = net.expected(x, true);
    // the built graph is what TF1 serves: flag defaulted (false) = the Java inference branch,
    // flag true = the batch statistics, which differ (control)
    assertEquals(0, TestGraph.maxAbsDiff(run(m, x, null), inference), 1e-4);
    assertTrue(TestGraph.maxAbsDiff(run(m, x, true), inference) > 0.1);
    assertEquals(0, NormalizationMatcher.find(GraphView.of(m.graph())).size());

    Pipeline.Result resolved = pipeline(false).run(m);
    PassOutcome o = resolved.outcomes().get(1);
    assertEquals(2, o.changes(), o.toString());
    assertEquals(0, count(resolved.model(), COND_OPS), TestGraph.ops(resolved.model().graph())
        .toString());
    GraphView after = GraphView.of(resolved.model().graph());
    for (String gone : List.of("batch_normalization/moments/mean",
        "batch_normalization/moments/variance", "batch_normalization/cond/pred_id",
        "batch_normalization/cond_1/switch_t")) {
      assertFalse(after.contains(gone), gone);
    }
    assertTrue(after.contains("is_training"));
    List<NormalizationMatch> norms = NormalizationMatcher.find(after);
    assertEquals(1, norms.size());
    assertFalse(norms.get(0).batchStatistics());
    assertEquals(0, TestGraph.maxAbsDiff(run(resolved.model(), x, null), inference), 1e-4);
    // the flag no longer matters: true gives the inference branch too
    assertEquals(0, TestGraph.maxAbsDiff(run(resolved.model(), x, true), inference), 1e-4);

    Pipeline.Result stripped = pipeline(true).run(m);
    assertEquals(1, stripped.outcomes().get(2).changes(), stripped.outcomes().toString());
    assertFalse(TestGraph.hasAny(stripped.model().graph(), Set.of("Rsqrt", "Switch", "Merge")));
    float[] noBn = net.expected(x, false);
    assertTrue(TestGraph.maxAbsDiff(noBn, inference) > 0.1);
    assertEquals(0, TestGraph.maxAbsDiff(run(stripped.model(), x, null), noBn), 1e-4);
  }

  @Test
  void aCondBetweenWholeBatchNormsBecomesTheInferenceOne() {
    Net net = new Net(false, true);
    Model m = net.model();
    float[] x = floats(new TestGraph(4).randomInput(BATCH * W));
    float[] inference = net.expected(x, true);
    assertEquals(0, TestGraph.maxAbsDiff(run(m, x, null), inference), 1e-4);
    assertTrue(TestGraph.maxAbsDiff(run(m, x, true), inference) > 0.1);

    Pipeline.Result resolved = pipeline(false).run(m);
    assertEquals(1, resolved.outcomes().get(1).changes(), resolved.outcomes().toString());
    assertEquals(0, count(resolved.model(), COND_OPS));
    GraphView after = GraphView.of(resolved.model().graph());
    assertFalse(after.contains("batch_normalization/batchnorm_1/add_1"));
    assertFalse(after.contains("batch_normalization/moments/mean"));
    assertEquals(0, TestGraph.maxAbsDiff(run(resolved.model(), x, true), inference), 1e-4);

    Pipeline.Result stripped = pipeline(true).run(m);
    assertEquals(1, stripped.outcomes().get(2).changes(), stripped.outcomes().toString());
    assertEquals(0, TestGraph.maxAbsDiff(run(stripped.model(), x, null), net.expected(x, false)),
        1e-4);
  }

  @Test
  void theDefaultRewriteAcceptsTheBnCondAndLeavesNoSwitchOrMerge() {
    Model m = new Net(false).model();
    Pipeline.Result r = DksRewrite.pipeline(RewriteOptions.defaults()).build().run(m);
    assertEquals(0, count(r.model(), COND_OPS), TestGraph.ops(r.model().graph()).toString());
    // (pln adds an Rsqrt of its own: the BN's nodes are recognized by their scope)
    assertEquals(List.of(), r.model().graph().getNodeList().stream().map(NodeDef::getName)
        .filter(n -> n.startsWith("batch_normalization/")).toList());
    PassOutcome strip = r.outcomes().stream()
        .filter(o -> o.pass().equals(StripNormalizationPass.NAME)).findFirst().orElseThrow();
    assertEquals(1, strip.changes(), strip.toString());
  }

  /**
   * The unfused form with the moving averages on Switch output 1 (the flag true): with the flag
   * defaulting to false the model serves the batch statistics, so the cond is not resolved (it
   * was before, to the moving averages); with a plain Placeholder, which serving feeds, the stored
   * branch is the inference one on either port. Control: the built ports (moving on 0) match.
   */
  @Test
  void theStoredStatisticOnPortOneIsTheInferenceBranchOnlyWhenServingSelectsIt() {
    GraphView built = GraphView.of(new Net(false).model().graph());
    assertEquals(2, new BatchNormCondMatcher(built).find().size());
    GraphView swapped = GraphView.of(new Net(false).model().graph());
    for (String c : List.of("batch_normalization/cond/", "batch_normalization/cond_1/")) {
      swapped.put(swapped.get(c + "Merge").toBuilder().clearInput().addInput(c + "Switch_1")
          .addInput(c + "Switch_2:1").build());
    }
    assertEquals(0, new BatchNormCondMatcher(swapped).find().size());
    swapped.put(Nodes.op("Placeholder", "is_training").type("dtype", DataType.DT_BOOL)
        .attr("shape", TestGraph.shape()).build());
    List<BatchNormCond> fed = new BatchNormCondMatcher(swapped).find();
    assertEquals(2, fed.size());
    assertEquals("batch_normalization/moving_mean/read",
        fed.get(0).merges().get("batch_normalization/cond/Merge").node());
  }

  @Test
  void aCondThatIsNotABnIsLeftAlone() {
    Model m = new Net(true).model();
    Pipeline.Result resolved = pipeline(false).run(m);
    assertEquals(2, resolved.outcomes().get(1).changes(), resolved.outcomes().toString());
    GraphView after = GraphView.of(resolved.model().graph());
    for (String kept : List.of("dropout/cond/Merge", "dropout/cond/Switch_1",
        "dropout/cond/pred_id", "dropout/cond/Switch")) {
      assertTrue(after.contains(kept), kept);
    }
    assertEquals(3, count(resolved.model(), COND_OPS));
    // body-check still refuses the dropout cond in the body, naming it
    UnsupportedConstructException e = assertThrows(UnsupportedConstructException.class,
        () -> DksRewrite.pipeline(RewriteOptions.defaults()).build().run(m));
    assertTrue(e.nodes().contains("dropout/cond/Merge"), e.nodes().toString());
    assertFalse(e.nodes().stream().anyMatch(n -> n.startsWith("batch_normalization/")),
        e.nodes().toString());
  }

  /** The real dropout cond of Vespa's TF 1.4 model (../shared/models) is not a BN either. */
  @Test
  void vespaDropoutCondIsLeftAlone() {
    java.nio.file.Path dir = dev.dks.rewriter.testing.SharedModels.require("vespa_tf1_dropout");
    try (org.tensorflow.SavedModelBundle b = org.tensorflow.SavedModelBundle.load(dir.toString(),
        "serve")) {
      GraphView g = GraphView.of(b.graph().toGraphDef());
      long merges = g.nodes().stream().filter(n -> n.getOp().equals("Merge")).count();
      assertEquals(1, merges);
      PassOutcome o = new BatchNormCondPass().run(new dev.dks.rewriter.pipeline.RewriteContext(g,
          Map.of(), List.of("X"), List.of("outputs/Maximum")));
      assertEquals(0, o.changes(), o.toString());
      assertEquals(merges, g.nodes().stream().filter(n -> n.getOp().equals("Merge")).count());
    }
  }

  static float[] floats(TensorProto t) {
    return TensorProtos.floats(t);
  }

  static float[] plus(float[] v, float offset, float scale) {
    float[] out = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = offset + scale * v[i];
    }
    return out;
  }

  static float[] abs(float[] v) {
    float[] out = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = Math.abs(v[i]);
    }
    return out;
  }
}
