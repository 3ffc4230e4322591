package dev.dks.rewriter.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.DksRewrite;
import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.model.TensorSpec;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

/**
 * Channels-first tensors (nanodet, converted from ONNX: NCHW tensors between layers, a Transpose
 * to channels-last before each convolution and back after it). The check reads a tensor behind
 * Transposes at the centre of its channels-last view ({@link ChannelsLastView}), a channels-first
 * input gets its pairs on the channel axis ({@link KernelEntry}, {@link PairFeed}) and its
 * per-location normalization over that axis (the pln pass). Brute force: the sums equal those of
 * the channels-last tensor at its centre location, computed in Java from the whole fetched
 * tensor. Controls: the old reading of an NCHW tensor (its first F values: one channel along a
 * row) and of a Transpose of a padded NCHW tensor (its corner: the border) are not the signal.
 */
class ChannelsFirstTest {
  private static final long[] SHAPE = {-1, 6, 5, 3};

  private static TensorProto ints(long[] shape, int... v) {
    TensorProto.Builder b = TensorProto.newBuilder().setDtype(DataType.DT_INT32)
        .setTensorShape(TensorProtos.shapeProto(shape));
    for (int x : v) {
      b.addIntVal(x);
    }
    return b.build();
  }

  private static void transpose(GraphView g, String name, String in, int... perm) {
    g.add(Nodes.constant(name + "/perm", ints(new long[] {perm.length}, perm)));
    g.add(Nodes.op("Transpose", name).input(in).input(name + "/perm")
        .type("T", DataType.DT_FLOAT).type("Tperm", DataType.DT_INT32).build());
  }

  private static Model cnn() {
    return ModelBuilder.build(ArchitectureSpec.builder(Architecture.PLAIN_CNN, 3).width(8)
        .input("6x5x3").build()).model();
  }

  private static String firstRelu(GraphView g) {
    return g.nodes().stream().filter(n -> n.getOp().equals("Relu")).findFirst().orElseThrow()
        .getName();
  }

  /** relu -> NCHW -> zero pad of H and W by 1 -> back to NHWC -> the next layer. */
  private static Model relayout(String[] relu) {
    Model m = cnn();
    GraphView g = GraphView.of(m.graph());
    relu[0] = firstRelu(g);
    transpose(g, "nchw", relu[0], 0, 3, 1, 2);
    g.add(Nodes.constant("pad/paddings", ints(new long[] {4, 2}, 0, 0, 0, 0, 1, 1, 1, 1)));
    g.add(Nodes.op("Pad", "pad").input("nchw").input("pad/paddings")
        .type("T", DataType.DT_FLOAT).type("Tpaddings", DataType.DT_INT32).build());
    transpose(g, "nhwc", "pad", 0, 2, 3, 1);
    g.replaceUses(TensorName.of(relu[0]), TensorName.of("nhwc"), List.of("nchw"));
    return m.with(g.toGraphDef(), m.variables());
  }

  /** {sum a^2, sum b^2, sum a b} per pair over the last axis at NHWC location (y, x). */
  private static double[] sumsAt(TensorProto t, int pairs, int y, int x) {
    float[] v = TensorProtos.floats(t);
    long[] s = TensorProtos.shape(t);
    int w = (int) s[2];
    int f = (int) s[3];
    int per = v.length / (2 * pairs);
    double[] out = new double[3 * pairs];
    for (int p = 0; p < pairs; p++) {
      for (int j = 0; j < f; j++) {
        double a = v[2 * p * per + (y * w + x) * f + j];
        double b = v[(2 * p + 1) * per + (y * w + x) * f + j];
        out[3 * p] += a * a;
        out[3 * p + 1] += b * b;
        out[3 * p + 2] += a * b;
      }
    }
    return out;
  }

  /** The same sums over the first {@code f} values of each example (the old reading). */
  private static double[] firstValues(TensorProto t, int pairs, int f) {
    float[] v = TensorProtos.floats(t);
    int per = v.length / (2 * pairs);
    double[] out = new double[3 * pairs];
    for (int p = 0; p < pairs; p++) {
      for (int j = 0; j < f; j++) {
        double a = v[2 * p * per + j];
        double b = v[(2 * p + 1) * per + j];
        out[3 * p] += a * a;
        out[3 * p + 1] += b * b;
        out[3 * p + 2] += a * b;
      }
    }
    return out;
  }

  private static float[] rows(int pairs, int features, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    float[] rows = new float[2 * pairs * features];
    for (int p = 0; p < pairs; p++) {
      double[][] pr = InputPairs.withCorrelation(features, 0.3 * p, rng);
      for (int e = 0; e < 2; e++) {
        for (int j = 0; j < features; j++) {
          rows[(2 * p + e) * features + j] = (float) pr[e][j];
        }
      }
    }
    return rows;
  }

  private static void assertClose(double[] want, double[] got, String what) {
    assertEquals(want.length, got.length, what);
    for (int i = 0; i < want.length; i++) {
      assertEquals(want[i], got[i], 1e-9 * Math.max(1, Math.abs(want[i])), what + " [" + i + "]");
    }
  }

  private static double c(double[] s, int p) {
    return s[3 * p + 2] / Math.sqrt(s[3 * p] * s[3 * p + 1]);
  }

  @Test
  void tensorsBehindTransposesAreReadAtTheCentreOfTheirChannelsLastView() {
    String[] relu = new String[1];
    Model m = relayout(relu);
    List<String> nodes = List.of(relu[0], "nchw", "pad", "nhwc");
    int pairs = 4;
    float[] rows = rows(pairs, 3, 5);
    try (PairStatistics st = new PairStatistics(m, "input", SHAPE, nodes)) {
      double[][] got = st.run(rows, pairs, new long[nodes.size()], new long[] {6, 5});
      Map<String, TensorProto> whole = st.fetchWhole(rows, pairs, nodes, "input");
      // brute force: the relu (channels-last, 6x5) at its centre location (3, 2)
      double[] centre = sumsAt(whole.get(relu[0]), pairs, 3, 2);
      assertClose(centre, got[1], "nchw");
      assertClose(centre, got[2], "pad (NCHW)");
      assertClose(centre, got[3], "transpose of the padded tensor");
      for (int p = 0; p < pairs; p++) {
        assertTrue(got[1][3 * p] > 1e-3, "the centre carries the signal");
      }
      // controls: the old reading of the NCHW tensor is one channel along a row (F = 5 values
      // of channel 0), not a location's 8 channels; the padded tensor's corner is its border
      double[] old = firstValues(whole.get("nchw"), pairs, 5);
      // (a channel the relu zeroes gives c = 0/0, as at nanodet's outputs)
      int wrong = 0;
      for (int p = 0; p < pairs; p++) {
        double d = Math.abs(c(old, p) - c(centre, p));
        wrong += Double.isNaN(d) || d > 0.05 || Math.abs(old[3 * p] / centre[3 * p] - 1) > 0.2
            ? 1 : 0;
      }
      assertTrue(wrong >= pairs / 2, "the first F values of an NCHW tensor are another vector: "
          + java.util.Arrays.toString(old) + " vs " + java.util.Arrays.toString(centre));
      double[] corner = sumsAt(whole.get("nhwc"), pairs, 0, 0);
      for (double v : corner) {
        assertEquals(0.0, v);
      }
    }
  }

  /** The CNN with a channels-first input 'x' [-1, 3, 6, 5], transposed to NHWC for it. */
  private static Model nchwInput() {
    Model m = cnn();
    GraphView g = GraphView.of(m.graph());
    g.add(Nodes.op("Placeholder", "x").type("dtype", DataType.DT_FLOAT).attr("shape",
        AttrValue.newBuilder().setShape(TensorProtos.shapeProto(new long[] {-1, 3, 6, 5}))
            .build()).build());
    transpose(g, "x/to_nhwc", "x", 0, 2, 3, 1);
    g.replaceUses(TensorName.of("input"), TensorName.of("x/to_nhwc"), List.of());
    g.remove("input");
    Signature s = m.signatures().get(0);
    return new Model(g.toGraphDef(), m.variables(), List.of(new Signature(s.key(),
        s.methodName(), Map.of("x", new TensorSpec(TensorName.of("x"), DataType.DT_FLOAT,
            new long[] {-1, 3, 6, 5})), s.outputs())));
  }

  @Test
  void aChannelsFirstInputIsNormalizedAndFedOnItsChannelAxis() {
    Model r = DksRewrite.pipeline(RewriteOptions.defaults()).build().run(nchwInput()).model();
    // per-location normalization over the channel axis (axis 1): brute force on a random image
    SplittableRandom rng = new SplittableRandom(9);
    float[] img = new float[2 * 3 * 6 * 5];
    for (int i = 0; i < img.length; i++) {
      img[i] = (float) (3 * rng.nextDouble() - 1);
    }
    float[] v;
    try (ModelSession s = new ModelSession(r)) {
      v = TensorProtos.floats(s.run(Map.of("x", TensorProtos.ofFloats(new long[] {2, 3, 6, 5},
          img)), List.of("x/pln/normalized")).get("x/pln/normalized"));
    }
    for (int n = 0; n < 2; n++) {
      for (int loc = 0; loc < 30; loc++) {
        double q = 0;
        double raw = 0;
        for (int ch = 0; ch < 3; ch++) {
          q += v[n * 90 + ch * 30 + loc] * (double) v[n * 90 + ch * 30 + loc] / 3;
          raw += img[n * 90 + ch * 30 + loc] * (double) img[n * 90 + ch * 30 + loc] / 3;
        }
        assertEquals(1.0, q, 1e-5, "q over the channels at location " + loc);
        for (int ch = 0; ch < 3; ch++) {
          assertEquals(img[n * 90 + ch * 30 + loc] / Math.sqrt(raw), v[n * 90 + ch * 30 + loc],
              1e-5);
        }
      }
    }
    // the check's entry: channels-last shape; the fed rows reach the first layer's input as
    // each location's channel vector (PLN of a unit-q row is the row)
    KernelEntry e = KernelEntry.of(r);
    assertEquals("x", e.node());
    assertArrayEquals(new long[] {-1, 6, 5, 3}, e.shape());
    assertTrue(e.note().contains("channels-first"), e.note());
    int pairs = 4;
    float[] rows = rows(pairs, 3, 11);
    List<String> nodes = List.of("x", "x/to_nhwc");
    try (PairStatistics st = new PairStatistics(r, "x", e.shape(), nodes)) {
      double[][] got = st.run(rows, pairs, new long[nodes.size()], new long[] {6, 5});
      double[] want = new double[3 * pairs];
      for (int p = 0; p < pairs; p++) {
        for (int j = 0; j < 3; j++) {
          double a = rows[2 * p * 3 + j];
          double b = rows[(2 * p + 1) * 3 + j];
          want[3 * p] += a * a;
          want[3 * p + 1] += b * b;
          want[3 * p + 2] += a * b;
        }
      }
      assertClose(want, got[0], "fed rows");
      for (int i = 0; i < want.length; i++) {
        assertEquals(want[i], got[1][i], 1e-5 * Math.max(1, Math.abs(want[i])),
            "the first layer's input [" + i + "]");
      }
      // control: pairs of c 0 to 0.9 (fed on the last axis before, a location's channel vector
      // was one value repeated: c = +-1 for every pair)
      assertTrue(Math.abs(c(got[1], 0)) < 0.5, "c of the first pair: " + c(got[1], 0));
    }
  }
}
