package dev.dks.rewriter.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.testing.DenseNets;
import dev.dks.solver.network.NetworkMaps;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;

/**
 * A value computed from the input's shape (faceboxes: its pad sizes and anchors from {@code
 * Shape(image)}) is the same for every input of that size: no signal, so it is no path of the
 * network. Before, it was: added to a body tensor it made a merge with a path of zero layers,
 * which diluted the network's maps (faceboxes' largest C(0) under ReLU came out 0.588, and TAT's
 * eta auto with it, where its ReLU body reaches 0.849). Net: dense, relu, {@code + 0 *
 * float(Size(input))}, dense, relu, dense. Closed form: the plain 2-activation chain's maximal
 * slope {@code v^2}. Control: the same add of a second body stream (the input through its own
 * dense layer) is a merge of a 1- and a 2-layer path, {@code v (v + 1)/2} at the second
 * activation's input composed with the rest.
 */
class ShapeReaderPathTest {
  private static NetworkMaps maps(boolean fromShape) {
    DenseNets n = new DenseNets();
    TensorName h = n.act("relu", n.dense(TensorName.of("input")));
    TensorName other;
    if (fromShape) {
      n.g.add(Nodes.op("Size", "size").input("input").type("T", DataType.DT_FLOAT)
          .type("out_type", DataType.DT_INT32).build());
      n.g.add(Nodes.op("Cast", "size/float").input("size").type("SrcT", DataType.DT_INT32)
          .type("DstT", DataType.DT_FLOAT).build());
      n.g.add(Nodes.floatScalar("zero", 0f));
      n.g.add(Nodes.op("Mul", "size/zero").input("size/float").input("zero")
          .type("T", DataType.DT_FLOAT).build());
      other = TensorName.of("size/zero");
    } else {
      other = n.dense(TensorName.of("input"));
    }
    TensorName sum = n.add("sum", h, other);
    n.model(n.dense(n.act("relu", n.dense(sum))));
    NetworkAnalysis a = StructureAnalyzer.analyze(n.g, List.of("input"), List.of("output"));
    return NetworkMaps.of(a.structure());
  }

  @Test
  void aValueOfTheInputsShapeIsNoPath() {
    NetworkMaps shape = maps(true);
    NetworkMaps stream = maps(false);
    for (double v : new double[] {1.1, 1.5, 2.0}) {
      assertEquals(v * v, shape.maxSlope(v), 1e-12, "the plain chain at " + v);
      assertTrue(Math.abs(stream.maxSlope(v) - v * v) > 0.04,
          "control: a second body stream is a path, " + stream.maxSlope(v) + " at " + v);
    }
  }
}
