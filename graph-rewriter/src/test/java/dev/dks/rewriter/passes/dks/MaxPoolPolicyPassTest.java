package dev.dks.rewriter.passes.dks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.DksRewrite;
import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.builder.Reference;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.passes.norm.TestGraph;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.pipeline.StructuralVerifier;
import dev.dks.rewriter.pipeline.TensorFlowVerifier;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * "max-pool" on graphs with a max-pool, run by TF: the swap computes average pooling over the same
 * SAME-padded 3x3/2 windows (checked against {@link Reference#pool}, written from the definition:
 * border windows average only the entries inside the input), while {@code MaxPoolV2} and {@code
 * keep} leave max-pooling in place (its values, checked the same way).
 */
class MaxPoolPolicyPassTest {
  private static final long[] IN = {2, 5, 5, 3};
  /**
   * Pooled values against the hand computation: float32 sums of at most 9 values, so 1e-6. Max
   * and average of the same windows of N(0, 1) inputs differ by about 1, so the check tells them
   * apart (each test asserts the other one misses by more than 0.1).
   */
  private static final double TOLERANCE = 1e-6;

  /** x -> MaxPool 3x3 stride 2 SAME -> y (V2: window and strides as int32 tensors). */
  private static TestGraph maxPool(boolean v2) {
    TestGraph t = new TestGraph(5);
    t.placeholder("x", -1, 5, 5, 3);
    Nodes.Builder b;
    if (v2) {
      t.ints("ksize", 1, 3, 3, 1);
      t.ints("strides", 1, 2, 2, 1);
      b = Nodes.op("MaxPoolV2", "pool").input("x").input("ksize").input("strides");
    } else {
      b = Nodes.op("MaxPool", "pool").input("x").attr("ksize", TestGraph.ints(1, 3, 3, 1))
          .attr("strides", TestGraph.ints(1, 2, 2, 1));
    }
    t.add(b.type("T", DataType.DT_FLOAT).attr("padding", "SAME").attr("data_format", "NHWC")
        .build());
    t.op("Identity", "y", "pool");
    return t;
  }

  private static Pipeline.Result run(Model m, boolean keep) {
    return Pipeline.builder().verifier(new StructuralVerifier())
        .verifier(new TensorFlowVerifier(true)).add(new MaxPoolPolicyPass(keep)).build().run(m);
  }

  /** The largest difference between TF's pooled output and the hand computation. */
  private static double offBy(Model m, TensorProto x, boolean max) {
    double[] want = Reference.pool(Reference.input(x), 3, 2, max).v();
    float[] got = TestGraph.run(m, "x", x, "y");
    assertEquals(want.length, got.length);
    double d = 0;
    for (int i = 0; i < want.length; i++) {
      d = Math.max(d, Math.abs(want[i] - got[i]));
    }
    return d;
  }

  @Test
  void maxPoolBecomesAnAveragePoolOverTheSameWindows() {
    TestGraph t = maxPool(false);
    Model m = t.model("x", IN, "y");
    TensorProto x = t.randomInput(IN);
    assertTrue(offBy(m, x, true) <= TOLERANCE, "the source max-pools");

    Pipeline.Result r = run(m, false);
    PassOutcome o = r.outcomes().get(0);
    assertEquals(1, o.changes(), o.notes().toString());
    NodeDef pool = GraphView.of(r.model().graph()).get("pool");
    assertEquals("AvgPool", pool.getOp());
    NodeDef before = GraphView.of(m.graph()).get("pool");
    for (String attr : new String[] {"ksize", "strides", "padding", "data_format", "T"}) {
      assertEquals(before.getAttrOrThrow(attr), pool.getAttrOrThrow(attr), attr);
    }
    double avg = offBy(r.model(), x, false);
    assertTrue(avg <= TOLERANCE, "average pool vs hand computation: " + avg);
    double max = offBy(r.model(), x, true);
    assertTrue(max > 0.1, "negative control: the max of the windows must miss: " + max);
  }

  @Test
  void maxPoolV2IsLeftAloneWithANote() {
    TestGraph t = maxPool(true);
    Model m = t.model("x", IN, "y");
    Pipeline.Result r = run(m, false);
    PassOutcome o = r.outcomes().get(0);
    assertEquals(0, o.changes());
    assertTrue(o.notes().stream().anyMatch(n -> n.contains("MaxPoolV2 'pool'")),
        o.notes().toString());
    assertEquals("MaxPoolV2", GraphView.of(r.model().graph()).get("pool").getOp());
    TensorProto x = t.randomInput(IN);
    assertTrue(offBy(r.model(), x, true) <= TOLERANCE);
    assertTrue(offBy(r.model(), x, false) > 0.1);
  }

  @Test
  void keepLeavesTheMaxPoolWithANote() {
    TestGraph t = maxPool(false);
    Model m = t.model("x", IN, "y");
    Pipeline.Result r = run(m, true);
    PassOutcome o = r.outcomes().get(0);
    assertEquals(0, o.changes());
    assertTrue(o.notes().stream().anyMatch(n -> n.contains("kept max-pool 'pool'")),
        o.notes().toString());
    assertEquals(GraphView.of(m.graph()).get("pool"),
        GraphView.of(r.model().graph()).get("pool"));
    TensorProto x = t.randomInput(IN);
    assertTrue(offBy(r.model(), x, true) <= TOLERANCE);
    assertTrue(offBy(r.model(), x, false) > 0.1);
  }

  /**
   * The rewrite option reaches the pass: a ResNet with the ImageNet stem (7x7/2 conv, 3x3/2
   * max-pool) keeps its max-pool with {@code withKeepMaxPool(true)} and gets an average pool by
   * default.
   */
  @Test
  void rewriteOptionKeepMaxPoolReachesThePass() {
    Model m = ModelBuilder.build(ArchitectureSpec.builder(Architecture.RESNET, 18).width(4)
        .input("64x64x3").build()).model();
    assertEquals(Map.of("MaxPool", 1), poolOps(m));
    Model swapped = DksRewrite.pipeline(RewriteOptions.defaults()).build().run(m).model();
    assertEquals(Map.of("AvgPool", 1), poolOps(swapped));
    Model kept = DksRewrite.pipeline(RewriteOptions.defaults().withKeepMaxPool(true)).build()
        .run(m).model();
    assertEquals(Map.of("MaxPool", 1), poolOps(kept));
  }

  /**
   * AvgPool takes no explicit padding, so a MaxPool with {@code padding = EXPLICIT} is left alone
   * with a note and computes what it computed. (Regression: it became an invalid AvgPool and the
   * verifier failed the whole rewrite.)
   */
  @Test
  void explicitPaddingIsLeftAloneWithANote() {
    TestGraph t = new TestGraph(5);
    t.placeholder("x", -1, 5, 5, 3);
    t.add(Nodes.op("MaxPool", "pool").input("x").attr("ksize", TestGraph.ints(1, 3, 3, 1))
        .attr("strides", TestGraph.ints(1, 2, 2, 1)).type("T", DataType.DT_FLOAT)
        .attr("padding", "EXPLICIT")
        .attr("explicit_paddings", TestGraph.ints(0, 0, 1, 1, 1, 1, 0, 0))
        .attr("data_format", "NHWC").build());
    t.op("Identity", "y", "pool");
    Model m = t.model("x", IN, "y");
    Pipeline.Result r = run(m, false);
    PassOutcome o = r.outcomes().get(0);
    assertEquals(0, o.changes());
    assertTrue(o.notes().stream().anyMatch(n -> n.contains("'pool'") && n.contains("EXPLICIT")),
        o.notes().toString());
    assertEquals("MaxPool", GraphView.of(r.model().graph()).get("pool").getOp());
    TensorProto x = t.randomInput(IN);
    assertEquals(0.0, TestGraph.maxAbsDiff(TestGraph.run(m, "x", x, "y"),
        TestGraph.run(r.model(), "x", x, "y")));
  }

  private static Map<String, Integer> poolOps(Model m) {
    Map<String, Integer> ops = new java.util.TreeMap<>(TestGraph.ops(m.graph()));
    ops.keySet().retainAll(java.util.Set.of("MaxPool", "AvgPool", "MaxPoolV2"));
    return ops;
  }
}
