package dev.dks.rewriter.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.DksRewrite;
import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.testing.DenseNets;
import dev.dks.solver.solve.ShapingSolution;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

/**
 * The kernel check's start on a rewritten CRelu network with per-location normalization and a
 * homogeneous coordinate of 1 (faceboxes, issue 12): W input features at c0 and mean square 1
 * plus the coordinate 1 give, after normalization, c = (W c0 + 1) / (W + 1) (by hand); the first
 * activation, after {@code concat([dense(x), -dense(x)])}, is predicted from that c: C(c) with
 * the TReLU closed form, matching the measurement. Negative control: before, the CRelu's concat
 * read the raw input, so the prediction started from c0 (C(c0) is off the measurement).
 */
@Tag("tf")
class CReluPlnStartTest {
  /** Input features (faceboxes: 3 colours, start c 0.25 at c0 0). */
  private static final int W = 3;
  private static final int H = 32;

  private static double treluC(double c, double s) {
    double k = (1 - s) * (1 - s) / (Math.PI * (1 + s * s));
    return c + k * (Math.sqrt(1 - c * c) - c * Math.acos(c));
  }

  private static Model raw() {
    DenseNets n = new DenseNets(W);
    TensorName h = n.dense(TensorName.of("input"), W, H);
    n.g.add(Nodes.op("Neg", "crelu/neg").input(h).type("T", DataType.DT_FLOAT).build());
    n.g.add(Nodes.constant("crelu/axis", TensorProto.newBuilder().setDtype(DataType.DT_INT32)
        .addIntVal(1).build()));
    n.g.add(Nodes.op("ConcatV2", "crelu/concat").input(h).input("crelu/neg")
        .input("crelu/axis").type("T", DataType.DT_FLOAT).type("Tidx", DataType.DT_INT32)
        .attr("N", AttrValue.newBuilder().setI(2).build()).build());
    TensorName r = n.act("relu", TensorName.of("crelu/concat"));
    return n.model(n.dense(n.act("relu", n.dense(r, 2 * H, H)), H, W));
  }

  @Test
  void predictionStartsFromTheNormalizedInputsC() {
    Pipeline.Result res = DksRewrite.pipeline(RewriteOptions.defaults()).build().run(raw());
    ShapingSolution sol = res.fact(ShapingSolution.class).orElseThrow();
    double s = sol.get("leaky_relu").params().negativeSlope().getAsDouble();
    KernelReport r = KernelCheck.run(res.model(), sol,
        KernelCheck.Options.defaults().withDraws(16));
    List<KernelMeasurement> rows = r.rows();
    String start = rows.get(0).tensor();
    assertTrue(start.endsWith("pln/normalized"), r.toText());
    int checked = 0;
    for (KernelMeasurement m : rows) {
      double c0 = m.inputC();
      double startC = (W * c0 + 1) / (W + 1);
      if (m.tensor().equals(start)) {
        assertEquals(startC, m.predictedC(), 1e-3, r.toText());
        assertEquals(startC, m.measuredC(), 1e-3, r.toText());
      } else if (m.depth() == 1) {
        checked++;
        double want = treluC(startC, s);
        assertEquals(want, m.predictedC(), 0.015, r.toText());
        assertEquals(want, m.measuredC(), 0.03, r.toText());
        if (c0 < 0.8) {
          // near 1 the two starts are too close to tell apart
          double fromRaw = treluC(c0, s);
          assertTrue(Math.abs(fromRaw - m.measuredC()) > 0.05, fromRaw + "\n" + r.toText());
        }
      }
    }
    assertEquals(3, checked, r.toText());
  }
}
