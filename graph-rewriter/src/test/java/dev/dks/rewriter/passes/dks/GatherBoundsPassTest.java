package dev.dks.rewriter.passes.dks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.model.TensorSpec;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.pipeline.StructuralVerifier;
import dev.dks.rewriter.pipeline.TensorFlowVerifier;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

/**
 * gather-bounds on a GatherNd whose row indices are floor(input) (as an attention model's sampled
 * coordinates) from a 5x3 table: indices -3, 0, 4, 9 read rows 0, 0, 4, 4 after the clamp (by
 * hand); the model as read fails in TensorFlow on them (the negative control); a GatherNd with
 * constant indices is left alone.
 */
class GatherBoundsPassTest {
  private static final float[] TABLE = new float[15];

  static {
    for (int i = 0; i < 15; i++) {
      TABLE[i] = 10 * (i / 3) + i % 3;
    }
  }

  private static Model model() {
    GraphView g = GraphView.empty();
    g.add(Nodes.op("Placeholder", "input").type("dtype", DataType.DT_FLOAT).attr("shape",
        AttrValue.newBuilder().setShape(TensorProtos.shapeProto(new long[] {-1, 1})).build())
        .build());
    g.add(Nodes.constant("table", TensorProtos.ofFloats(new long[] {5, 3}, TABLE)));
    g.add(Nodes.op("Floor", "floor").input("input").type("T", DataType.DT_FLOAT).build());
    g.add(Nodes.op("Cast", "idx").input("floor").type("SrcT", DataType.DT_FLOAT)
        .type("DstT", DataType.DT_INT32).attr("Truncate", AttrValue.newBuilder().setB(false)
            .build()).build());
    g.add(Nodes.op("GatherNd", "rows").input("table").input("idx").type("Tparams",
        DataType.DT_FLOAT).type("Tindices", DataType.DT_INT32).build());
    g.add(Nodes.constant("fixed", TensorProto.newBuilder().setDtype(DataType.DT_INT32)
        .setTensorShape(TensorProtos.shapeProto(new long[] {1})).addIntVal(2).build()));
    g.add(Nodes.op("GatherNd", "row2").input("table").input("fixed").type("Tparams",
        DataType.DT_FLOAT).type("Tindices", DataType.DT_INT32).build());
    g.add(Nodes.op("Identity", "output").input("rows").type("T", DataType.DT_FLOAT).build());
    g.add(Nodes.op("Identity", "second").input("row2").type("T", DataType.DT_FLOAT).build());
    TensorSpec in = new TensorSpec(TensorName.of("input"), DataType.DT_FLOAT, new long[] {-1, 1});
    TensorSpec o = new TensorSpec(TensorName.of("output"), DataType.DT_FLOAT, new long[] {-1, 3});
    TensorSpec o2 = new TensorSpec(TensorName.of("second"), DataType.DT_FLOAT, new long[] {3});
    return new Model(g.toGraphDef(), Map.of(), List.of(new Signature(Signature.SERVING_DEFAULT,
        Signature.PREDICT_METHOD, Map.of("x", in), Map.of("y", o, "z", o2))));
  }

  private static float[] run(Model m, String out) {
    TensorProto x = TensorProtos.ofFloats(new long[] {4, 1}, new float[] {-2.5f, 0.2f, 4.7f,
        9.1f});
    try (ModelSession s = new ModelSession(m)) {
      return TensorProtos.floats(s.run(Map.of("input", x), List.of(out)).get(out));
    }
  }

  @Test
  void indicesFromTheInputAreClampedToTheTable() {
    Pipeline.Result r = Pipeline.builder().verifier(new StructuralVerifier())
        .verifier(new TensorFlowVerifier(false)).add(new GatherBoundsPass()).build().run(model());
    assertEquals(1, r.outcomes().get(0).changes(), r.outcomes().toString());
    float[] expected = new float[12];
    int[] rows = {0, 0, 4, 4};
    for (int i = 0; i < 4; i++) {
      for (int j = 0; j < 3; j++) {
        expected[3 * i + j] = 10 * rows[i] + j;
      }
    }
    assertArrayEquals(expected, run(r.model(), "output"));
    assertArrayEquals(new float[] {20, 21, 22}, run(r.model(), "second"));
    assertEquals(List.of("table", "fixed"), GraphView.of(r.model().graph()).get("row2")
        .getInputList());
    assertThrows(RuntimeException.class, () -> run(model(), "output"));
  }
}
