package dev.dks.rewriter.passes.dks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.passes.norm.TestGraph;
import dev.dks.rewriter.pipeline.Pipeline;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

/**
 * dks-init gives a Conv2D with an even kernel size one live tap, at the centre rounded down, so
 * that under SAME padding it reads an input location at every output location, for any stride:
 * fed the same vector at every location, the layer's output is the same at every location (what
 * the kernel check and the per-location theory assume; the KWS DS-CNN's 10x4 stride-2 first conv
 * on 49x10 is one case). Checked through TensorFlow on the conv's output. Negative control: the
 * live tap at the centre rounded up reads the padding at the bottom/right border (zeros there).
 */
class EvenKernelDeltaTest {
  private static final int IN = 3;
  private static final int OUT = 8;

  private static Model network(int kh, int kw, int stride, int h, int w) {
    TestGraph t = new TestGraph(5);
    String x = t.placeholder("input", -1, h, w, IN);
    String k = t.normalVariable("conv/kernel", 0, 0.1, kh, kw, IN, OUT);
    String conv = t.add(Nodes.op("Conv2D", "conv/Conv2D").input(x).input(k)
        .type("T", DataType.DT_FLOAT).attr("strides", TestGraph.ints(1, stride, stride, 1))
        .attr("padding", "SAME").build());
    String relu = t.op("Relu", "relu", conv);
    String k2 = t.normalVariable("out/kernel", 0, 0.1, 1, 1, OUT, OUT);
    String out = t.conv("out/Conv2D", relu, k2);
    return Pipeline.builder().add(new DksInitPass(3)).build()
        .run(t.model("input", new long[] {-1, h, w, IN}, out)).model();
  }

  /** The conv's output for one example holding the same vector at every location. */
  private static float[] convOfConstant(Model m, int h, int w) {
    float[] v = {0.7f, -1.3f, 0.4f};
    float[] x = new float[h * w * IN];
    for (int i = 0; i < h * w; i++) {
      System.arraycopy(v, 0, x, i * IN, IN);
    }
    try (ModelSession s = new ModelSession(m)) {
      TensorProto in = TensorProtos.ofFloats(new long[] {1, h, w, IN}, x);
      return TensorProtos.floats(s.run(Map.of("input", in), List.of("conv/Conv2D"))
          .get("conv/Conv2D"));
    }
  }

  /** The largest difference between a location's output and location 0's. */
  private static double spread(float[] y) {
    double worst = 0;
    for (int i = 0; i < y.length; i++) {
      worst = Math.max(worst, Math.abs(y[i] - y[i % OUT]));
    }
    return worst;
  }

  @Test
  void evenKernelsKeepConstantInputsConstant() {
    int[][] cases = {{10, 4, 2, 49, 10}, {2, 2, 1, 5, 5}, {4, 4, 2, 9, 7}, {2, 3, 2, 6, 5}};
    for (int[] c : cases) {
      Model m = network(c[0], c[1], c[2], c[3], c[4]);
      float[] k = TensorProtos.floats(m.variables().get("conv/kernel"));
      int block = IN * OUT;
      int live = 0;
      for (int tap = 0; tap < c[0] * c[1]; tap++) {
        boolean nonzero = false;
        for (int j = 0; j < block; j++) {
          nonzero |= k[tap * block + j] != 0f;
        }
        live += nonzero ? 1 : 0;
        assertEquals(tap == (c[0] - 1) / 2 * c[1] + (c[1] - 1) / 2, nonzero,
            java.util.Arrays.toString(c) + " tap " + tap);
      }
      assertEquals(1, live);
      float[] y = convOfConstant(m, c[3], c[4]);
      double norm = 0;
      for (int j = 0; j < OUT; j++) {
        norm += y[j] * y[j];
      }
      assertTrue(norm > 0.1, java.util.Arrays.toString(c));
      assertEquals(0.0, spread(y), 1e-6, java.util.Arrays.toString(c));
    }
  }

  @Test
  void theTapRoundedUpReadsThePadding() {
    // 2x2, stride 1, 5x5: SAME pads 0 before and 1 after, so tap (1, 1) of the last row and
    // column reads the padding
    Model m = network(2, 2, 1, 5, 5);
    float[] k = TensorProtos.floats(m.variables().get("conv/kernel"));
    int block = IN * OUT;
    float[] moved = new float[k.length];
    System.arraycopy(k, 0, moved, 3 * block, block); // tap 0 -> tap (1, 1)
    Map<String, TensorProto> vars = new HashMap<>(m.variables());
    vars.put("conv/kernel", TensorProtos.ofFloats(new long[] {2, 2, IN, OUT}, moved));
    Model wrong = new Model(m.graph(), vars, m.signatures());
    assertTrue(spread(convOfConstant(wrong, 5, 5)) > 0.1);
  }
}
