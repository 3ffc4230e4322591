package dev.dks.rewriter.safety;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.safety.TensorBounds.TensorBoundsException;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * Bounds of graph tensors (issue 17b), with byte counts worked out by hand: a float32 [3, 5] is
 * 60 bytes, so 60 bytes of tensor_content pass and 16 are refused; one float_val broadcast to
 * [10^6, 10^6] declares 4*10^12 bytes (refused at any budget a JVM has), to [1000] 4000 bytes
 * (3996 beyond the 4 stored: passes a 4000-byte budget, fails a 3995-byte one); the graph total
 * counts library functions too; negative and overflowing shapes are refused.
 */
class TensorBoundsTest {
  private static TensorProto floats(long[] shape, int storedValues, int contentBytes) {
    TensorProto.Builder t = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT)
        .setTensorShape(TensorProtos.shapeProto(shape));
    for (int i = 0; i < storedValues; i++) {
      t.addFloatVal(1.5f);
    }
    if (contentBytes > 0) {
      t.setTensorContent(ByteString.copyFrom(new byte[contentBytes]));
    }
    return t.build();
  }

  private static NodeDef konst(String name, TensorProto t) {
    return NodeDef.newBuilder().setName(name).setOp("Const")
        .putAttr("dtype", AttrValue.newBuilder().setType(t.getDtype()).build())
        .putAttr("value", AttrValue.newBuilder().setTensor(t).build()).build();
  }

  @Test
  void packedContentMustFillTheShapeExactly() {
    assertEquals(0, TensorBounds.check(floats(new long[] {3, 5}, 0, 60), "t", 1));
    TensorBoundsException e = assertThrows(TensorBoundsException.class,
        () -> TensorBounds.requireWithin(GraphDef.newBuilder()
            .addNode(konst("short", floats(new long[] {3, 5}, 0, 16))).build(), 1L << 30));
    assertTrue(e.getMessage().contains("node 'short' (Const, attribute value)"), e.getMessage());
    assertTrue(e.getMessage().contains("declares 60 bytes but its tensor_content holds 16"),
        e.getMessage());
    // the Java reader refuses it too instead of reading past the content
    assertThrows(TensorBoundsException.class,
        () -> TensorProtos.floats(floats(new long[] {3, 5}, 0, 16)));
    assertEquals(15, TensorProtos.floats(floats(new long[] {3, 5}, 0, 60)).length);
  }

  @Test
  void broadcastsAreBoundedPerTensorAndInTotal() {
    TensorBoundsException e = assertThrows(TensorBoundsException.class,
        () -> TensorBounds.check(floats(new long[] {1_000_000, 1_000_000}, 1, 0), "huge",
            TensorBounds.defaultBudget()));
    assertTrue(e.getMessage().contains("declares 4000000000000 bytes"), e.getMessage());
    assertEquals(3996, TensorBounds.check(floats(new long[] {1000}, 1, 0), "t", 4000));
    assertThrows(TensorBoundsException.class,
        () -> TensorBounds.check(floats(new long[] {1000}, 1, 0), "t", 3995));
    // two 3996-byte broadcasts: each fits a 6000-byte budget, together they do not; the second
    // sits in a library function and is named with it
    GraphDef.Builder g = GraphDef.newBuilder().addNode(konst("a", floats(new long[] {1000}, 1, 0)));
    FunctionDef.Builder f = FunctionDef.newBuilder();
    f.getSignatureBuilder().setName("fn");
    f.addNodeDef(konst("b", floats(new long[] {1000}, 1, 0)));
    g.getLibraryBuilder().addFunction(f);
    TensorBounds.requireWithin(g.build(), 8000);
    e = assertThrows(TensorBoundsException.class, () -> TensorBounds.requireWithin(g.build(), 6000));
    assertTrue(e.getMessage().contains("node 'fn/b'") && e.getMessage().contains("7992 in total"),
        e.getMessage());
    // the Java reader refuses a broadcast over the default budget before allocating
    assertThrows(TensorBoundsException.class,
        () -> TensorProtos.floats(floats(new long[] {1_000_000, 1_000_000}, 1, 0)));
  }

  @Test
  void negativeAndOverflowingShapesAreRefused() {
    assertThrows(TensorBoundsException.class,
        () -> TensorBounds.check(floats(new long[] {-1, 4}, 1, 0), "t", 1L << 30));
    TensorBoundsException e = assertThrows(TensorBoundsException.class,
        () -> TensorBounds.check(floats(new long[] {1L << 40, 1L << 40}, 1, 0), "t", 1L << 30));
    assertTrue(e.getMessage().contains("more than 2^63"), e.getMessage());
    // 2^62 elements of 4 bytes overflow only in the byte count
    assertThrows(TensorBoundsException.class,
        () -> TensorBounds.check(floats(new long[] {1L << 31, 1L << 31}, 1, 0), "t", 1L << 30));
  }

  @Test
  void elementSizesFollowTheDtypes() {
    assertEquals(1, TensorBounds.elementBytes(DataType.DT_BOOL));
    assertEquals(2, TensorBounds.elementBytes(DataType.DT_BFLOAT16));
    assertEquals(4, TensorBounds.elementBytes(DataType.DT_FLOAT_REF));
    assertEquals(8, TensorBounds.elementBytes(DataType.DT_INT64));
    assertEquals(16, TensorBounds.elementBytes(DataType.DT_COMPLEX128));
  }
}
