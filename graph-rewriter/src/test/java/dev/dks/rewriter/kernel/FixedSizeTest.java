package dev.dks.rewriter.kernel;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.model.TensorProtos;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

/**
 * A transposed convolution whose output size is a Const keeps the check's runs at the model's
 * spatial size ({@link PairStatistics#fixedSizeReason}): at fewer locations its input would not
 * match that size, and oneDNN aborted the process (handdetect's verify, exit 134). Control: a
 * size computed from the graph (a Shape) follows the fed size and allows the reduction.
 */
class FixedSizeTest {
  private static GraphView tconv(boolean constantSize) {
    GraphView g = GraphView.empty();
    g.add(Nodes.op("Placeholder", "x").type("dtype", DataType.DT_FLOAT).build());
    if (constantSize) {
      g.add(Nodes.constant("size", TensorProto.newBuilder().setDtype(DataType.DT_INT32)
          .setTensorShape(TensorProtos.shapeProto(new long[] {4})).addIntVal(1).addIntVal(8)
          .addIntVal(8).addIntVal(4).build()));
    } else {
      g.add(Nodes.op("Shape", "size").input("x").type("T", DataType.DT_FLOAT)
          .type("out_type", DataType.DT_INT32).build());
    }
    g.add(Nodes.constant("filter", TensorProtos.ofFloats(new long[] {2, 2, 4, 4},
        new float[64])));
    g.add(Nodes.op("Conv2DBackpropInput", "up").input("size").input("filter").input("x")
        .type("T", DataType.DT_FLOAT).build());
    return g;
  }

  @Test
  void aConstantOutputSizeKeepsTheModelsLocations() {
    String why = PairStatistics.fixedSizeReason(tconv(true).toGraphDef());
    assertTrue(why != null && why.contains("'up' (Conv2DBackpropInput)"), why);
    assertNull(PairStatistics.fixedSizeReason(tconv(false).toGraphDef()));
  }
}
