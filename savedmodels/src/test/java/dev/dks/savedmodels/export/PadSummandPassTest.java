package dev.dks.savedmodels.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.RewriteContext;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.types.TFloat32;

/**
 * {@link PadSummandPass}: a Pad added to another tensor becomes PadV2 with a zero constant and the
 * graph computes the same numbers (checked against the closed form: the padded channels hold the
 * other summand alone); a Pad that only feeds a convolution stays a Pad (negative control).
 */
class PadSummandPassTest {
  /** x [1,2,2,2] = 1..8; pad channels to 4 (zeros after), add y [1,2,2,4] = 0.5 each. */
  private static GraphDef graph(boolean summand) {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Operand<TFloat32> x = tf.withName("x").constant(Shape.of(1, 2, 2, 2),
          DataBuffers.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8}));
      Operand<TFloat32> pad = g.opBuilder("Pad", "chpad", tf.scope()).addInput(x.asOutput())
          .addInput(tf.constant(new int[][] {{0, 0}, {0, 0}, {0, 0}, {0, 2}}).asOutput())
          .build().output(0);
      if (summand) {
        Operand<TFloat32> y = tf.fill(tf.constant(new int[] {1, 2, 2, 4}), tf.constant(0.5f));
        g.opBuilder("AddV2", "out", tf.scope()).addInput(pad.asOutput()).addInput(y.asOutput())
            .build();
      } else {
        g.opBuilder("Conv2D", "out", tf.scope()).addInput(pad.asOutput())
            .addInput(tf.fill(tf.constant(new int[] {1, 1, 4, 1}), tf.constant(1f)).asOutput())
            .setAttr("strides", new long[] {1, 1, 1, 1}).setAttr("padding", "VALID").build();
      }
      return g.toGraphDef();
    }
  }

  private static PassOutcome run(GraphView g) {
    return new PadSummandPass().run(new RewriteContext(g, Map.of(), List.of("out")));
  }

  private static float[] compute(GraphDef def, int size) {
    float[] out = new float[size];
    try (Graph g = new Graph()) {
      g.importGraphDef(def);
      try (Session s = new Session(g); Result r = s.runner().fetch("out").run()) {
        ((TFloat32) r.get(0)).copyTo(DataBuffers.of(out, false, false));
      }
    }
    return out;
  }

  @Test
  void padFeedingAnAddBecomesPadV2WithTheSameValues() {
    GraphView g = GraphView.of(graph(true));
    assertTrue(PadSummandPass.matches(g, g.get("chpad")));
    PassOutcome o = run(g);
    assertEquals(1, o.changes());
    NodeDef pad = g.get("chpad");
    assertEquals("PadV2", pad.getOp());
    assertEquals(3, pad.getInputCount());
    NodeDef zero = g.get(pad.getInput(2));
    assertEquals("Const", zero.getOp());
    assertEquals(0f, zero.getAttrOrThrow("value").getTensor().getFloatVal(0));

    float[] got = compute(g.toGraphDef(), 16);
    // pixel p holds channels (x[2p] + .5, x[2p+1] + .5, .5, .5)
    for (int p = 0; p < 4; p++) {
      assertEquals(2 * p + 1 + 0.5f, got[4 * p], 0f);
      assertEquals(2 * p + 2 + 0.5f, got[4 * p + 1], 0f);
      assertEquals(0.5f, got[4 * p + 2], 0f);
      assertEquals(0.5f, got[4 * p + 3], 0f);
    }
  }

  @Test
  void padFeedingOnlyAConvolutionIsLeftAlone() {
    GraphView g = GraphView.of(graph(false));
    assertFalse(PadSummandPass.matches(g, g.get("chpad")));
    assertEquals(0, run(g).changes());
    assertEquals("Pad", g.get("chpad").getOp());
  }
}
