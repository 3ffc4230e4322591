package dev.dks.rewriter.passes.dks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.model.TensorSpec;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.pipeline.StructuralVerifier;
import dev.dks.rewriter.pipeline.TensorFlowVerifier;
import dev.dks.solver.init.HomogeneousMode;
import dev.dks.solver.init.PerLocationNormalization;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tensorflow.Result;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TInt32;

/**
 * pln on an int32 image read by a Cast to float32 (movenet's input; faceboxes' is uint8): the
 * normalization goes after the Cast, the signature keeps its int32 input, and the normalized
 * tensor equals dks-solver's Java per-location normalization of the integer pixels (homogeneous
 * coordinate one); the 1x1 conv reading it gets its zero row. Controls: the same comparison
 * against the pixels divided by their whole example's root mean square misses; an int32 input
 * that a Shape reads besides the Cast is left alone with a note.
 */
class IntegerImageInputTest {
  private static final long[] SHAPE = {2, 3, 4, 3};

  private static Model model(boolean alsoShape) {
    GraphView g = GraphView.empty();
    g.add(Nodes.op("Placeholder", "image").type("dtype", DataType.DT_INT32).attr("shape",
        AttrValue.newBuilder().setShape(TensorProtos.shapeProto(new long[] {-1, 3, 4, 3}))
            .build()).build());
    g.add(Nodes.op("Cast", "to_float").input("image").type("SrcT", DataType.DT_INT32)
        .type("DstT", DataType.DT_FLOAT).attr("Truncate", AttrValue.newBuilder().setB(false)
            .build()).build());
    if (alsoShape) {
      g.add(Nodes.op("Shape", "size").input("image").type("T", DataType.DT_INT32)
          .type("out_type", DataType.DT_INT32).build());
    }
    float[] k = new float[3 * 2];
    for (int i = 0; i < k.length; i++) {
      k[i] = 0.1f * (i + 1);
    }
    g.add(Nodes.constant("kernel", TensorProtos.ofFloats(new long[] {1, 1, 3, 2}, k)));
    g.add(Nodes.op("Conv2D", "conv").input("to_float").input("kernel")
        .type("T", DataType.DT_FLOAT).attr("strides", AttrValue.newBuilder().setList(
            AttrValue.ListValue.newBuilder().addI(1).addI(1).addI(1).addI(1)).build())
        .attr("padding", "SAME").build());
    g.add(Nodes.op("Identity", "y").input("conv").type("T", DataType.DT_FLOAT).build());
    TensorSpec in = new TensorSpec(TensorName.of("image"), DataType.DT_INT32,
        new long[] {-1, 3, 4, 3});
    TensorSpec out = new TensorSpec(TensorName.of("y"), DataType.DT_FLOAT, null);
    return new Model(g.toGraphDef(), Map.of(), List.of(new Signature(Signature.SERVING_DEFAULT,
        Signature.PREDICT_METHOD, Map.of("x", in), Map.of("y", out))));
  }

  private static Pipeline.Result run(Model m) {
    return Pipeline.builder().verifier(new StructuralVerifier())
        .verifier(new TensorFlowVerifier(false))
        .add(new InputNormalizationPass(HomogeneousMode.ONE, 1.0)).build().run(m);
  }

  private static float[] fetch(Model m, int[] pixels, String tensor) {
    try (ModelSession s = new ModelSession(m);
        TInt32 x = TInt32.tensorOf(Shape.of(SHAPE), DataBuffers.of(pixels, true, false));
        Result r = s.session().runner().feed("image", x).fetch(tensor).run()) {
      return TensorProtos.floats(TensorProtos.fromTensor(r.get(0)));
    }
  }

  @Test
  void anIntegerImageIsNormalizedAfterItsCast() {
    Pipeline.Result r = run(model(false));
    PassOutcome o = r.outcomes().get(0);
    assertEquals(1, o.changes(), o.notes().toString());
    assertTrue(o.notes().stream().anyMatch(n -> n.contains("'image' is DT_INT32, cast to "
        + "float32 by 'to_float'")), o.notes().toString());
    assertEquals(DataType.DT_INT32, r.model().signature(Signature.SERVING_DEFAULT).inputs()
        .get("x").dtype());
    GraphView g = GraphView.of(r.model().graph());
    assertEquals("to_float/pln/normalized", g.get("conv").getInput(0));
    assertEquals(4, TensorProtos.shape(g.get("kernel").getAttrOrThrow("value").getTensor())[2]);

    Random rnd = new Random(5);
    int[] pixels = new int[2 * 3 * 4 * 3];
    double[] xd = new double[pixels.length];
    for (int i = 0; i < pixels.length; i++) {
      pixels[i] = rnd.nextInt(256);
      xd[i] = pixels[i];
    }
    double[] want = new PerLocationNormalization(HomogeneousMode.ONE, 1.0, true).apply(xd, SHAPE)
        .values();
    float[] got = fetch(r.model(), pixels, "to_float/pln/normalized");
    assertEquals(want.length, got.length);
    double off = 0;
    for (int i = 0; i < want.length; i++) {
      off = Math.max(off, Math.abs(want[i] - got[i]) / Math.max(1, Math.abs(want[i])));
    }
    assertTrue(off <= 1e-5, "against the Java reference: " + off);
    // negative control: the pixels of the Cast with the homogeneous column, divided by their
    // whole example's rms instead of each location's
    double[] wrong = new double[want.length];
    for (int e = 0; e < 2; e++) {
      int per = want.length / 2;
      double ms = 0;
      for (int i = 0; i < per; i++) {
        int loc = i / 4;
        double v = i % 4 == 3 ? 1 : xd[e * (per / 4 * 3) + loc * 3 + i % 4];
        wrong[e * per + i] = v;
        ms += v * v / per;
      }
      for (int i = 0; i < per; i++) {
        wrong[e * per + i] /= Math.sqrt(ms);
      }
    }
    double miss = 0;
    for (int i = 0; i < want.length; i++) {
      miss = Math.max(miss, Math.abs(wrong[i] - got[i]) / Math.max(1, Math.abs(wrong[i])));
    }
    assertTrue(miss > 1e-3, "the per-example normalization must miss: " + miss);
  }

  @Test
  void anIntegerInputReadBeyondItsCastIsLeftAlone() {
    Pipeline.Result r = run(model(true));
    PassOutcome o = r.outcomes().get(0);
    assertEquals(0, o.changes());
    assertTrue(o.notes().stream().anyMatch(n -> n.contains("'image' is DT_INT32, not float32")),
        o.notes().toString());
    assertEquals("to_float", GraphView.of(r.model().graph()).get("conv").getInput(0));
  }
}
