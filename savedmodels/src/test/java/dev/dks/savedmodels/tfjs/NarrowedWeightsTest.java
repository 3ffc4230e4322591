package dev.dks.savedmodels.tfjs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.graph.GraphImport;
import dev.dks.savedmodels.ModelFormatException;
import dev.dks.savedmodels.TensorValues;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Weights the TF.js converter stored narrower than their node (a {@code DT_DOUBLE} constant shipped
 * as float16-quantized float32, as in faceboxes; a {@code DT_INT64} one shipped as int32, as in
 * nanodet): a hand-written graph model {@code out = Reshape(x * c, shape)} in float64 with an int64
 * shape {@code [-1, 1]}, read and run, against values computed by hand.
 */
class NarrowedWeightsTest {
  @TempDir
  Path dir;

  private static String dim(long... shape) {
    StringBuilder b = new StringBuilder("[");
    for (int i = 0; i < shape.length; i++) {
      b.append(i == 0 ? "" : ",").append("{\"size\":\"").append(shape[i]).append("\"}");
    }
    return b.append("]").toString();
  }

  /** The model; {@code cType}/{@code shapeType}: the manifest dtypes of c and shape. */
  private Path write(String cType, String cQuant, String shapeType) throws IOException {
    String nodes = String.join(",",
        "{\"name\":\"x\",\"op\":\"Placeholder\",\"attr\":{\"dtype\":{\"type\":\"DT_DOUBLE\"},"
            + "\"shape\":{\"shape\":{\"dim\":" + dim(3) + "}}}}",
        "{\"name\":\"c\",\"op\":\"Const\",\"attr\":{\"dtype\":{\"type\":\"DT_DOUBLE\"},"
            + "\"value\":{\"tensor\":{\"dtype\":\"DT_DOUBLE\",\"tensorShape\":{\"dim\":" + dim(3)
            + "}}}}}",
        "{\"name\":\"shape\",\"op\":\"Const\",\"attr\":{\"dtype\":{\"type\":\"DT_INT64\"},"
            + "\"value\":{\"tensor\":{\"dtype\":\"DT_INT64\",\"tensorShape\":{\"dim\":" + dim(2)
            + "}}}}}",
        "{\"name\":\"y\",\"op\":\"Mul\",\"input\":[\"x\",\"c\"],\"attr\":{\"T\":{\"type\":"
            + "\"DT_DOUBLE\"}}}",
        "{\"name\":\"out\",\"op\":\"Reshape\",\"input\":[\"y\",\"shape\"],\"attr\":{\"T\":"
            + "{\"type\":\"DT_DOUBLE\"},\"Tshape\":{\"type\":\"DT_INT64\"}}}");
    String manifest = "[{\"paths\":[\"w.bin\"],\"weights\":[{\"name\":\"c\",\"shape\":[3],"
        + "\"dtype\":\"" + cType + "\"" + (cQuant == null ? "" : ",\"quantization\":" + cQuant)
        + "},{\"name\":\"shape\",\"shape\":[2],\"dtype\":\"" + shapeType + "\"}]}]";
    String json = "{\"format\":\"graph-model\",\"modelTopology\":{\"node\":[" + nodes
        + "],\"versions\":{\"producer\":175}},\"weightsManifest\":" + manifest + "}";
    ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
    if (cQuant != null) {
      // float16 0.5, -2, 0x3555 (= 1365/4096 = 0.333251953125)
      b.putShort((short) 0x3800).putShort((short) 0xC000).putShort((short) 0x3555);
    } else {
      b.putFloat(0.5f).putFloat(-2f).putFloat(0.333251953125f);
    }
    b.putInt(-1).putInt(1);
    Files.write(dir.resolve("w.bin"), Arrays.copyOf(b.array(), b.position()));
    Path p = dir.resolve("model.json");
    Files.writeString(p, json);
    return p;
  }

  private static TensorProto value(Model m, String node) {
    return m.graph().getNodeList().stream().filter(n -> n.getName().equals(node)).findFirst()
        .orElseThrow().getAttrOrThrow("value").getTensor();
  }

  private static void check(Path json) {
    TfjsGraphModelReader.Result r = TfjsGraphModelReader.readDetailed(json);
    Model m = r.model();
    TensorProto c = value(m, "c");
    assertEquals(DataType.DT_DOUBLE, c.getDtype());
    ByteBuffer cb = c.getTensorContent().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(24, cb.remaining());
    assertArrayEquals(new double[] {0.5, -2, 0.333251953125},
        new double[] {cb.getDouble(), cb.getDouble(), cb.getDouble()});
    TensorProto s = value(m, "shape");
    assertEquals(DataType.DT_INT64, s.getDtype());
    ByteBuffer sb = s.getTensorContent().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    assertArrayEquals(new long[] {-1, 1}, new long[] {sb.getLong(), sb.getLong()},
        "int32 -1 sign-extended, not 4294967295");
    assertTrue(r.warnings().stream().anyMatch(w -> w.contains("DT_FLOAT -> DT_DOUBLE")
        && w.contains("'c'")), r.warnings().toString());
    assertTrue(r.warnings().stream().anyMatch(w -> w.contains("DT_INT32 -> DT_INT64")
        && w.contains("'shape'")), r.warnings().toString());

    ByteBuffer xb = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
    xb.putDouble(1).putDouble(2).putDouble(3).flip();
    TensorProto x = TensorProto.newBuilder().setDtype(DataType.DT_DOUBLE)
        .setTensorShape(TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dim.newBuilder()
            .setSize(3)))
        .setTensorContent(ByteString.copyFrom(xb)).build();
    try (Graph g = new Graph()) {
      GraphImport.into(g, m.graph());
      try (Session session = new Session(g); Tensor xt = TensorValues.toTensor(x);
          Result res = session.runner().feed("x:0", xt).fetch("out:0").run()) {
        TensorProto out = TensorValues.toProto(res.get(0));
        assertEquals(DataType.DT_DOUBLE, out.getDtype());
        assertEquals(List.of(3L, 1L), out.getTensorShape().getDimList().stream()
            .map(TensorShapeProto.Dim::getSize).toList());
        ByteBuffer ob = out.getTensorContent().asReadOnlyByteBuffer()
            .order(ByteOrder.LITTLE_ENDIAN);
        // 1 * 0.5, 2 * -2, 3 * 0.333251953125
        assertArrayEquals(new double[] {0.5, -4, 0.999755859375},
            new double[] {ob.getDouble(), ob.getDouble(), ob.getDouble()});
      }
    }
  }

  @Test
  void float16QuantizedFloat32WidensToDoubleAndInt32ToInt64() throws IOException {
    check(write("float32", "{\"dtype\":\"float16\",\"original_dtype\":\"float32\"}", "int32"));
  }

  @Test
  void plainFloat32WidensToDouble() throws IOException {
    check(write("float32", null, "int32"));
  }

  @Test
  void narrowingOrCrossKindIsStillATypedError() throws IOException {
    // a float32 weight for an int64 node is no exact widening: the reader's typed error remains
    ModelFormatException e = assertThrows(ModelFormatException.class,
        () -> TfjsGraphModelReader.read(write("float32", null, "float32")));
    assertTrue(e.getMessage().contains("weight 'shape'") && e.getMessage().contains("DT_INT64"),
        e.getMessage());
  }
}
