package dev.dks.rewriter.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.testing.DenseNets;
import dev.dks.solver.network.NetworkMaps;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

/**
 * Body and head (issue 18): the body runs from the input through the last layer on every path;
 * the head (a link function, decoding, a TF1 while loop) is not analysed as part of the
 * network, and a loop is refused only before a layer. Every output's path enters the network
 * maps: with outputs of depth 1 and 2 the slope map is the deeper one's, x^2, in either order.
 */
class BodyHeadTest {
  private static final AttrValue FLOAT = AttrValue.newBuilder().setType(DataType.DT_FLOAT).build();

  /** relu(dense1(input)) -> dense2 = logits; heads: sigmoid(logits), and a loop over sum(logits). */
  private static DenseNets detector(boolean layerAfterLoop) {
    DenseNets n = new DenseNets();
    TensorName logits = n.dense(n.act("relu", n.dense(TensorName.of("input"))));
    n.g.add(Nodes.op("Sigmoid", "scores").input(logits).type("T", DataType.DT_FLOAT).build());
    n.g.add(Nodes.constant("axes", TensorProto.newBuilder().setDtype(DataType.DT_INT32)
        .setTensorShape(org.tensorflow.proto.TensorShapeProto.newBuilder().addDim(
            org.tensorflow.proto.TensorShapeProto.Dim.newBuilder().setSize(2)))
        .addIntVal(0).addIntVal(1).build()));
    n.g.add(Nodes.op("Sum", "total").input(logits).input("axes").type("T", DataType.DT_FLOAT)
        .type("Tidx", DataType.DT_INT32).build());
    n.g.add(Nodes.op("Abs", "start").input("total").type("T", DataType.DT_FLOAT).build());
    n.g.add(Nodes.op("Enter", "loop/Enter").input("start").type("T", DataType.DT_FLOAT)
        .attr("frame_name", "loop").build());
    n.g.add(Nodes.op("Merge", "loop/Merge").input("loop/Enter").input("loop/NextIteration")
        .type("T", DataType.DT_FLOAT).attr("N", AttrValue.newBuilder().setI(2).build()).build());
    n.g.add(Nodes.floatScalar("loop/limit", 100f));
    n.g.add(Nodes.op("Enter", "loop/limit_enter").input("loop/limit").type("T", DataType.DT_FLOAT)
        .attr("frame_name", "loop").attr("is_constant", AttrValue.newBuilder().setB(true).build())
        .build());
    n.g.add(Nodes.op("Less", "loop/Less").input("loop/Merge").input("loop/limit_enter")
        .type("T", DataType.DT_FLOAT).build());
    n.g.add(Nodes.op("LoopCond", "loop/LoopCond").input("loop/Less").build());
    n.g.add(Nodes.op("Switch", "loop/Switch").input("loop/Merge").input("loop/LoopCond")
        .type("T", DataType.DT_FLOAT).build());
    n.g.add(Nodes.op("Identity", "loop/body").input("loop/Switch:1").type("T", DataType.DT_FLOAT)
        .build());
    n.g.add(Nodes.op("AddV2", "loop/double").input("loop/body").input("loop/body")
        .type("T", DataType.DT_FLOAT).build());
    n.g.add(Nodes.op("NextIteration", "loop/NextIteration").input("loop/double")
        .type("T", DataType.DT_FLOAT).build());
    n.g.add(Nodes.op("Exit", "loop/Exit").input("loop/Switch").type("T", DataType.DT_FLOAT)
        .build());
    TensorName last = TensorName.of("loop/Exit");
    if (layerAfterLoop) {
      n.g.add(Nodes.op("Mul", "loop/scaled").input(logits).input("loop/Exit")
          .type("T", DataType.DT_FLOAT).build());
      last = n.dense(TensorName.of("loop/scaled"));
    }
    n.g.add(Nodes.op("Identity", "count").input(last).type("T", DataType.DT_FLOAT).build());
    assertTrue(FLOAT.getType() == DataType.DT_FLOAT);
    return n;
  }

  @Test
  void aLoopAndALinkFunctionAfterTheLastLayerAreTheHead() {
    GraphView g = detector(false).g;
    NetworkAnalysis a = StructureAnalyzer.analyze(g, List.of("input"), List.of("scores",
        "count"));
    assertEquals(List.of("dense1/MatMul", "dense2/MatMul"),
        a.layers().stream().map(LayerSite::node).toList());
    assertEquals(1, a.activations().size(), a.activations().toString());
    assertEquals("relu", a.activations().get(0).kind());
    assertTrue(a.body().containsAll(List.of("dense1/MatMul", "dense1/BiasAdd", "dense2/MatMul",
        "dense2/BiasAdd")), a.body().toString());
    assertEquals(List.of("scores"), a.head().get("scores"));
    assertTrue(a.head().get("count").containsAll(List.of("total", "start", "loop/Merge",
        "loop/Switch", "loop/Exit", "count")), a.head().get("count").toString());
    assertEquals(List.of(TensorName.of("dense2/BiasAdd")), a.bodyOutputs().get("count"));
    assertEquals(List.of(TensorName.of("dense2/BiasAdd")), a.bodyOutputs().get("scores"));
    assertTrue(a.warnings().stream().anyMatch(w -> w.contains("control-flow loop")),
        a.warnings().toString());
    NetworkMaps maps = NetworkMaps.of(a.structure());
    for (double x : new double[] {1.1, 2.0}) {
      assertEquals(x, maps.maxSlope(x), 1e-12);
    }
  }

  @Test
  void aLoopBeforeALayerIsRefusedNamingTheLayer() {
    GraphView g = detector(true).g;
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> StructureAnalyzer.analyze(g, List.of("input"), List.of("count")));
    assertTrue(e.getMessage().contains("'dense3/MatMul'") && e.getMessage().contains("loop"),
        e.getMessage());
  }

  @Test
  void everyOutputPathEntersTheNetworkMaps() {
    DenseNets n = new DenseNets();
    TensorName h = n.act("relu", n.dense(TensorName.of("input")));
    TensorName deep = n.dense(n.act("relu", n.dense(h)));
    TensorName shallow = n.dense(h);
    n.g.add(Nodes.op("Identity", "deep").input(deep).type("T", DataType.DT_FLOAT).build());
    n.g.add(Nodes.op("Identity", "shallow").input(shallow).type("T", DataType.DT_FLOAT).build());
    double x = 1.3;
    for (List<String> outs : List.of(List.of("shallow", "deep"), List.of("deep", "shallow"))) {
      NetworkAnalysis a = StructureAnalyzer.analyze(n.g, List.of("input"), outs);
      assertEquals(x * x, NetworkMaps.of(a.structure()).maxSlope(x), 1e-12, outs.toString());
      assertTrue(a.warnings().stream().noneMatch(w -> w.contains("follows")), a.warnings()
          .toString());
    }
    // control: the shallow output alone has one nonlinear layer
    NetworkAnalysis one = StructureAnalyzer.analyze(n.g, List.of("input"), List.of("shallow"));
    assertEquals(x, NetworkMaps.of(one.structure()).maxSlope(x), 1e-12);
  }
}
