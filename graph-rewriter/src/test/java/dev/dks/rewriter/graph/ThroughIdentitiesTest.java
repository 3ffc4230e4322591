package dev.dks.rewriter.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * {@link GraphView#throughIdentities} and its two readers, {@link ConstReads#constNode} and (in
 * trainers) SoftmaxHead: a Const behind a chain of k Identity nodes is found for k up to the hop
 * limit, 4, and not for 5 (the limit both readers had before they shared the helper).
 */
class ThroughIdentitiesTest {
  /** An int32 Const {@code c} = [7, 8] read by Identity nodes id1 .. idK in a chain. */
  private static GraphView chain(int k) {
    GraphView g = GraphView.empty();
    g.add(Nodes.constant("c", TensorProto.newBuilder().setDtype(DataType.DT_INT32)
        .setTensorShape(TensorShapeProto.newBuilder()
            .addDim(TensorShapeProto.Dim.newBuilder().setSize(2))).addIntVal(7).addIntVal(8).build()));
    for (int i = 1; i <= k; i++) {
      g.add(Nodes.op("Identity", "id" + i).input(i == 1 ? "c" : "id" + (i - 1))
          .type("T", DataType.DT_INT32).build());
    }
    return g;
  }

  @Test
  void followsUpToTheLimitAndStopsThere() {
    for (int k = 0; k <= 4; k++) {
      GraphView g = chain(k);
      TensorName end = TensorName.of(k == 0 ? "c" : "id" + k);
      assertEquals(TensorName.of("c"), g.throughIdentities(end, 4), "chain of " + k);
      assertArrayEquals(new int[] {7, 8}, ConstReads.ints(g, end), "chain of " + k);
    }
    // negative control: five Identity reads are one more than the limit; the walk stops at id1
    GraphView g = chain(5);
    assertEquals(TensorName.of("id1"), g.throughIdentities(TensorName.of("id5"), 4));
    assertTrue(ConstReads.constNode(g, TensorName.of("id5")).isEmpty());
    assertNull(ConstReads.ints(g, TensorName.of("id5")));
  }

  @Test
  void stopsAtANonIdentityOrAMissingNode() {
    GraphView g = chain(2);
    g.add(Nodes.op("Neg", "neg").input("id2").type("T", DataType.DT_INT32).build());
    g.add(Nodes.op("Identity", "dangling").input("nowhere").type("T", DataType.DT_INT32)
        .build());
    assertEquals(TensorName.of("neg"), g.throughIdentities(TensorName.of("neg"), 4));
    assertEquals(TensorName.of("nowhere"), g.throughIdentities(TensorName.of("dangling"), 4));
    assertEquals(TensorName.of("id2"), g.throughIdentities(TensorName.of("id2"), 0));
    assertTrue(ConstReads.constNode(g, TensorName.of("neg")).isEmpty());
  }

  /** IdentityN output i forwards data input i, only when asked (ConstReads does not). */
  @Test
  void identityNForwardsItsIthInputWhenAsked() {
    GraphView g = chain(1);
    g.add(Nodes.op("Neg", "neg").input("id1").type("T", DataType.DT_INT32).build());
    g.add(Nodes.op("IdentityN", "call").input("neg").input("id1").input("^neg").build());
    assertEquals(TensorName.of("c"), g.throughIdentities(TensorName.of("call", 1), 4, true));
    assertEquals(TensorName.of("neg"), g.throughIdentities(TensorName.of("call", 0), 4, true));
    // negative control: without identityN, and in ConstReads, the IdentityN stops the walk
    assertEquals(TensorName.of("call", 1), g.throughIdentities(TensorName.of("call", 1), 4));
    assertTrue(ConstReads.constNode(g, TensorName.of("call", 1)).isEmpty());
    // the control input is not an output: call:2 stays
    assertEquals(TensorName.of("call", 2), g.throughIdentities(TensorName.of("call", 2), 4, true));
  }
}
