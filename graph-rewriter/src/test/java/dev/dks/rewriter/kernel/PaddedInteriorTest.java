package dev.dks.rewriter.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorProtos;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

/**
 * A Pad's output is measured at its first unpadded location ({@link PaddedInterior}): the sums
 * equal a brute-force computation at that location of the whole fetched tensor and equal the
 * pad's input at location 0 (the interior is the input); a chain of two pads is read through both
 * borders. Control: location 0 of the padded tensor (the corner the check read before) is all
 * zeros, so q = 0 and c = 0/0 there.
 */
class PaddedInteriorTest {
  private static final long[] SHAPE = {-1, 6, 5, 3};

  /** The 6x5 CNN with Pad [[0,0],[1,2],[2,1],[0,0]] and then Pad [[0,0],[1,1],[1,1],[0,0]]. */
  private static Model padded(String[] names) {
    Model m = ModelBuilder.build(ArchitectureSpec.builder(Architecture.PLAIN_CNN, 3)
        .width(8).input("6x5x3").build()).model();
    GraphView g = GraphView.of(m.graph());
    String relu = g.nodes().stream().filter(n -> n.getOp().equals("Relu")).findFirst()
        .orElseThrow().getName();
    g.add(Nodes.constant("pad/paddings", ints(new long[] {4, 2}, 0, 0, 1, 2, 2, 1, 0, 0)));
    g.add(Nodes.op("Pad", "pad").input(relu).input("pad/paddings")
        .type("T", DataType.DT_FLOAT).type("Tpaddings", DataType.DT_INT32).build());
    g.add(Nodes.constant("pad2/paddings", ints(new long[] {4, 2}, 0, 0, 1, 1, 1, 1, 0, 0)));
    g.add(Nodes.op("Pad", "pad2").input("pad").input("pad2/paddings")
        .type("T", DataType.DT_FLOAT).type("Tpaddings", DataType.DT_INT32).build());
    g.replaceUses(TensorName.of(relu), TensorName.of("pad2"), List.of("pad"));
    names[0] = relu;
    return m.with(g.toGraphDef(), m.variables());
  }

  private static TensorProto ints(long[] shape, int... v) {
    TensorProto.Builder b = TensorProto.newBuilder().setDtype(DataType.DT_INT32)
        .setTensorShape(TensorProtos.shapeProto(shape));
    for (int x : v) {
      b.addIntVal(x);
    }
    return b.build();
  }

  /** {sum a^2, sum b^2, sum a b} per pair (2p, 2p+1) at row {@code y}, column {@code x}. */
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

  private static void assertClose(double[] want, double[] got, String what) {
    assertEquals(want.length, got.length, what);
    for (int i = 0; i < want.length; i++) {
      assertEquals(want[i], got[i], 1e-12 * Math.max(1, Math.abs(want[i])), what + " [" + i + "]");
    }
  }

  @Test
  void aPadIsReadAtItsFirstUnpaddedLocation() {
    String[] relu = new String[1];
    Model m = padded(relu);
    List<String> nodes = List.of("input", relu[0], "pad", "pad2");
    int pairs = 4;
    SplittableRandom rng = new SplittableRandom(5);
    float[] rows = new float[2 * pairs * 3];
    for (int p = 0; p < pairs; p++) {
      double[][] pr = InputPairs.withCorrelation(3, 0.3 * p, rng);
      for (int e = 0; e < 2; e++) {
        for (int j = 0; j < 3; j++) {
          rows[(2 * p + e) * 3 + j] = (float) pr[e][j];
        }
      }
    }
    try (PairStatistics st = new PairStatistics(m, "input", SHAPE, nodes)) {
      long[] widths = new long[nodes.size()];
      double[][] got = st.run(rows, pairs, widths, new long[] {6, 5});
      Map<String, TensorProto> whole = st.fetchWhole(rows, pairs, nodes, "input");
      assertEquals(List.of(6L + 3, 5L + 3), List.of(TensorProtos.shape(whole.get("pad"))[1],
          TensorProtos.shape(whole.get("pad"))[2]));
      // the interior starts after the leading paddings: (1, 2), and (1 + 1, 2 + 1) for the chain
      assertClose(sumsAt(whole.get("pad"), pairs, 1, 2), got[2], "pad");
      assertClose(sumsAt(whole.get("pad2"), pairs, 2, 3), got[3], "pad2");
      // ... and is the pad's input: the relu at location 0
      assertClose(sumsAt(whole.get(relu[0]), pairs, 0, 0), got[2], "pad vs its input");
      assertClose(got[1], got[3], "pad2 vs the relu");
      assertEquals(widths[1], widths[2]);
      // control: the corner is padding, all zero, where the sums are not
      double[] corner = sumsAt(whole.get("pad"), pairs, 0, 0);
      for (int i = 0; i < corner.length; i++) {
        assertEquals(0.0, corner[i]);
      }
      assertTrue(got[2][0] > 1e-3 && got[3][0] > 1e-3, "the interior carries the signal");
    }
  }
}
