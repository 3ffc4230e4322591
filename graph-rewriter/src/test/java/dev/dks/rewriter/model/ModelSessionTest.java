package dev.dks.rewriter.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.TensorProto;

class ModelSessionTest {
  /** y = x W for a 1x2 input and a 2x3 variable, computed by TensorFlow vs. by hand. */
  @Test
  void runsAGraphWithAssignedVariables() {
    AttrValue shape23 = AttrValue.newBuilder().setShape(TensorProtos.shapeProto(new long[] {2, 3}))
        .build();
    GraphDef g = GraphDef.newBuilder()
        .addNode(Nodes.op("Placeholder", "x").type("dtype", DataType.DT_FLOAT).build())
        .addNode(Nodes.op("VariableV2", "w").type("dtype", DataType.DT_FLOAT)
            .attr("shape", shape23).build())
        .addNode(Nodes.op("MatMul", "y").input("x").input("w").type("T", DataType.DT_FLOAT)
            .build())
        .build();
    float[] w = {1, 2, 3, 4, 5, 6};
    Model m = new Model(g, Map.of("w", TensorProtos.ofFloats(new long[] {2, 3}, w)),
        List.of(new Signature(Signature.SERVING_DEFAULT, Signature.PREDICT_METHOD,
            Map.of("x", new TensorSpec(TensorName.of("x"), DataType.DT_FLOAT, new long[] {-1, 2})),
            Map.of("y", new TensorSpec(TensorName.of("y"), DataType.DT_FLOAT,
                new long[] {-1, 3})))));
    try (ModelSession s = new ModelSession(m)) {
      TensorProto x = TensorProtos.ofFloats(new long[] {1, 2}, new float[] {10, 100});
      float[] y = TensorProtos.floats(s.run(Map.of("x", x), List.of("y")).get("y"));
      assertArrayEquals(new float[] {10 + 400, 20 + 500, 30 + 600}, y, 0f);
      assertArrayEquals(w, TensorProtos.floats(s.variable("w")), 0f);
    }
  }

  @Test
  void valueForAMissingVariableIsNamed() {
    Model m = new Model(GraphDef.getDefaultInstance(),
        Map.of("ghost", TensorProtos.ofFloats(new long[] {1}, new float[] {1})), List.of());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new ModelSession(m).close());
    org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("ghost"));
  }
}
