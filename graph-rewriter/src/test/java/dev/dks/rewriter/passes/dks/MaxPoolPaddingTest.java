package dev.dks.rewriter.passes.dks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.passes.norm.TestGraph;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.pipeline.StructuralVerifier;
import dev.dks.rewriter.pipeline.TensorFlowVerifier;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * "max-pool" on the ONNX converter's max-pool (nanodet): an NCHW input padded by one on each side
 * with {@code PadV2(-inf)}, transposed to NHWC and max-pooled 3x3/2 VALID. Swapped for an average
 * pool its pad value becomes 0: every window's value is then the sum of its inputs inside the
 * image divided by 9 (computed here by hand). Negative control: the same average pool over the
 * -inf padding is not finite. A padded tensor that another node reads keeps its padding and its
 * max-pool.
 */
class MaxPoolPaddingTest {
  private static final long[] IN = {2, 3, 5, 5};

  /** x (NCHW) -> PadV2(value) -> Transpose to NHWC -> pool 3x3/2 VALID -> y. */
  private static TestGraph padded(String pool, float value, boolean shared) {
    TestGraph t = new TestGraph(11);
    t.placeholder("x", -1, 3, 5, 5);
    TensorProto.Builder pads = TensorProto.newBuilder().setDtype(DataType.DT_INT32)
        .setTensorShape(TensorProtos.shapeProto(new long[] {4, 2}));
    for (int v : new int[] {0, 0, 0, 0, 1, 1, 1, 1}) {
      pads.addIntVal(v);
    }
    t.add(Nodes.constant("pads", pads.build()));
    t.scalar("pad_value", value);
    t.add(Nodes.op("PadV2", "pad").input("x").input("pads").input("pad_value")
        .type("T", DataType.DT_FLOAT).type("Tpaddings", DataType.DT_INT32).build());
    t.ints("perm", 0, 2, 3, 1);
    t.add(Nodes.op("Transpose", "nhwc").input("pad").input("perm").type("T", DataType.DT_FLOAT)
        .type("Tperm", DataType.DT_INT32).build());
    t.add(Nodes.op(pool, "pool").input("nhwc").attr("ksize", TestGraph.ints(1, 3, 3, 1))
        .attr("strides", TestGraph.ints(1, 2, 2, 1)).type("T", DataType.DT_FLOAT)
        .attr("padding", "VALID").attr("data_format", "NHWC").build());
    if (shared) {
      t.op("Neg", "other", "pad");
    }
    t.op("Identity", "y", "pool");
    return t;
  }

  private static Pipeline.Result run(Model m) {
    return Pipeline.builder().verifier(new StructuralVerifier())
        .verifier(new TensorFlowVerifier(true)).add(new MaxPoolPolicyPass(false)).build().run(m);
  }

  /** Average of each 3x3/2 window of x (NCHW, zero outside), as NHWC [2, 3, 3, 3]. */
  private static float[] zeroPaddedAverage(float[] x) {
    float[] out = new float[2 * 3 * 3 * 3];
    for (int b = 0; b < 2; b++) {
      for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++) {
          for (int c = 0; c < 3; c++) {
            double s = 0;
            for (int di = 0; di < 3; di++) {
              for (int dj = 0; dj < 3; dj++) {
                int h = 2 * i + di - 1;
                int w = 2 * j + dj - 1;
                if (h >= 0 && h < 5 && w >= 0 && w < 5) {
                  s += x[((b * 3 + c) * 5 + h) * 5 + w];
                }
              }
            }
            out[((b * 3 + i) * 3 + j) * 3 + c] = (float) (s / 9);
          }
        }
      }
    }
    return out;
  }

  private static boolean finite(float[] v) {
    for (float f : v) {
      if (!Float.isFinite(f)) {
        return false;
      }
    }
    return true;
  }

  @Test
  void minusInfinityPaddingBecomesZeroForTheAverage() {
    TestGraph t = padded("MaxPool", Float.NEGATIVE_INFINITY, false);
    Model m = t.model("x", IN, "y");
    TensorProto x = t.randomInput(IN);
    assertTrue(finite(TestGraph.run(m, "x", x, "y")), "the max ignores the padding");

    Pipeline.Result r = run(m);
    PassOutcome o = r.outcomes().get(0);
    assertEquals(1, o.changes(), o.notes().toString());
    assertTrue(o.notes().stream().anyMatch(n -> n.contains("'pad'") && n.contains("set to 0")),
        o.notes().toString());
    GraphView g = GraphView.of(r.model().graph());
    assertEquals("AvgPool", g.get("pool").getOp());
    float[] got = TestGraph.run(r.model(), "x", x, "y");
    double off = TestGraph.maxAbsDiff(zeroPaddedAverage(TensorProtos.floats(x)), got);
    assertTrue(off <= 1e-6, "average over the zero-padded windows, by hand: " + off);

    // negative control: an average pool over the -inf padding
    Model plain = padded("AvgPool", Float.NEGATIVE_INFINITY, false).model("x", IN, "y");
    assertTrue(!finite(TestGraph.run(plain, "x", x, "y")));
  }

  @Test
  void theLowestFloatCountsAsMaxPaddingAndAZeroPadIsLeftAsItIs() {
    TestGraph t = padded("MaxPool", -Float.MAX_VALUE, false);
    Model m = t.model("x", IN, "y");
    TensorProto x = t.randomInput(IN);
    float[] got = TestGraph.run(run(m).model(), "x", x, "y");
    assertTrue(TestGraph.maxAbsDiff(zeroPaddedAverage(TensorProtos.floats(x)), got) <= 1e-6);

    Model zero = padded("MaxPool", 0f, false).model("x", IN, "y");
    Pipeline.Result r = run(zero);
    NodeDef pad = GraphView.of(r.model().graph()).get("pad");
    assertEquals("pad_value", pad.getInput(2));
    assertEquals(1, r.outcomes().get(0).changes());
  }

  @Test
  void aPaddedTensorOthersReadKeepsItsMaxPool() {
    TestGraph t = padded("MaxPool", Float.NEGATIVE_INFINITY, true);
    Model m = t.model("x", IN, "y");
    Pipeline.Result r = run(m);
    PassOutcome o = r.outcomes().get(0);
    assertEquals(0, o.changes(), o.notes().toString());
    assertTrue(o.notes().stream().anyMatch(n -> n.contains("kept max-pool 'pool'")),
        o.notes().toString());
    assertEquals("MaxPool", GraphView.of(r.model().graph()).get("pool").getOp());
    TensorProto x = t.randomInput(IN);
    assertEquals(0.0, TestGraph.maxAbsDiff(TestGraph.run(m, "x", x, "y"),
        TestGraph.run(r.model(), "x", x, "y")));
  }
}
