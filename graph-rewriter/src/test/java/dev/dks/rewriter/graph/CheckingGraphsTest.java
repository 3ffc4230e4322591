package dev.dks.rewriter.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.passes.norm.TestGraph;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/** The weight-free import used by the verifiers keeps every shape TensorFlow infers. */
class CheckingGraphsTest {
  /** x -> Conv2D(big kernel) + small bias -> Reshape(int32 shape) -> MatMul(big dense). */
  private static GraphDef net() {
    TestGraph t = new TestGraph(1);
    String x = t.placeholder("x", -1, 8, 8, 16);
    String k = t.uniformConst("kernel", -1, 1, 3, 3, 16, 32);
    String conv = t.conv("conv", x, k);
    String b = t.uniformConst("bias", -1, 1, 32);
    String add = t.op("BiasAdd", "biased", conv, b);
    String shape = t.ints("shape", -1, 8 * 8 * 32);
    String flat = t.reshape("flat", add, shape);
    String w = t.uniformConst("dense", -1, 1, 8 * 8 * 32, 10);
    t.op("MatMul", "logits", flat, w);
    return t.graph();
  }

  private static Map<String, String> shapes(GraphDef def) {
    Map<String, String> out = new HashMap<>();
    try (Graph g = new Graph()) {
      GraphImport.into(g, def);
      for (NodeDef n : def.getNodeList()) {
        GraphOperation op = g.operation(n.getName());
        for (int i = 0; i < op.numOutputs(); i++) {
          out.put(n.getName() + ":" + i, op.output(i).shape() + " " + op.output(i).dataType());
        }
      }
    }
    return out;
  }

  @Test
  void largeFloatConstantsBecomeSameShapeStandInsAndEveryInferredShapeStays() {
    GraphDef full = net();
    GraphDef light = CheckingGraphs.withoutWeights(full);
    assertEquals(shapes(full), shapes(light));
    assertEquals("[-1, 8, 8, 32] DT_FLOAT", shapes(light).get("conv:0"));
    assertEquals("[-1, 10] DT_FLOAT", shapes(light).get("logits:0"));
    assertTrue(light.getSerializedSize() * 20 < full.getSerializedSize(),
        light.getSerializedSize() + " bytes vs " + full.getSerializedSize());
    Map<String, NodeDef> byName = new HashMap<>();
    light.getNodeList().forEach(n -> byName.put(n.getName(), n));
    TensorProto k = byName.get("kernel").getAttrOrThrow("value").getTensor();
    assertEquals(1, k.getFloatValCount());
    assertTrue(k.getTensorContent().isEmpty());
    assertEquals(full.getNode(1).getAttrOrThrow("value").getTensor().getTensorShape(),
        k.getTensorShape());
    // below the size threshold and integer tensors keep their values
    for (String kept : new String[] {"bias", "shape", "x", "conv"}) {
      assertEquals(full.getNodeList().stream().filter(n -> n.getName().equals(kept)).findFirst()
          .orElseThrow(), byName.get(kept), kept);
    }
  }

  @Test
  void aConstantWhoseContentDoesNotMatchItsShapeIsLeftForTensorFlowToJudge() {
    TensorProto good = TensorProtos.ofFloats(new long[] {32, 32}, new float[32 * 32]);
    TensorProto broken = good.toBuilder().setTensorContent(ByteString.copyFrom(new byte[100]))
        .build();
    NodeDef n = Nodes.constant("c", broken);
    assertEquals(null, CheckingGraphs.elided(n));
    GraphDef def = GraphDef.newBuilder().addNode(n).build();
    assertSame(def, CheckingGraphs.withoutWeights(def));
    // control: the same constant with a matching content is elided
    assertEquals(1, CheckingGraphs.elided(Nodes.constant("c", good)).getFloatValCount());
  }
}
