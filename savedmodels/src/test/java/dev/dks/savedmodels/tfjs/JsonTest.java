package dev.dks.savedmodels.tfjs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;

/** The small JSON reader and the proto3-JSON mapping the TF.js reader is built on. */
class JsonTest {
  @Test
  void parsesEveryKindOfValue() throws Exception {
    Object v = Json.parse("\uFEFF {\"a\": [1, -2.5e3, \"x\\u00e9\\n\\\"\", true, false, null],"
        + " \"b\": {}, \"c\": [], \"big\": 123456789012345678901234567890}");
    Map<?, ?> m = (Map<?, ?>) v;
    assertEquals(Arrays.asList(1L, -2500.0, "x\u00e9\n\"", true, false, null), m.get("a"));
    assertEquals(Map.of(), m.get("b"));
    assertEquals(List.of(), m.get("c"));
    assertEquals(1.2345678901234568e29, m.get("big"));
    assertEquals("\u00e9", Json.parse("\"\u00e9\"".getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void rejectsMalformedText() {
    for (String bad : List.of("", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "tru", "\"a",
        "\"\\x\"", "[1] 2", "{'a': 1}", "\"tab\there\"", "NaN")) {
      assertThrows(Json.JsonException.class, () -> Json.parse(bad), bad);
    }
    Json.JsonException e = assertThrows(Json.JsonException.class,
        () -> Json.parse(new byte[] {'"', (byte) 0xC3, '"'}));
    assertTrue(e.getMessage().contains("UTF-8"), e.getMessage());
    e = assertThrows(Json.JsonException.class, () -> Json.parse("{\n  \"a\": ?}"));
    assertTrue(e.getMessage().contains("line 2, column 8"), e.getMessage());
  }

  @Test
  void mapsProto3JsonOntoANodeDef() throws Exception {
    Object json = Json.parse("{\"name\": \"n\", \"op\": \"Conv2D\", \"input\": [\"a\", \"b:1\"],"
        + " \"attr\": {\"T\": {\"type\": \"DT_HALF\"}, \"strides\": {\"list\": {\"i\": [\"1\", 2]}},"
        + " \"padding\": {\"s\": \"U0FNRQ==\"}, \"alpha\": {\"f\": \"NaN\"}, \"b\": {\"b\": true},"
        + " \"e\": {\"list\": {}}, \"shape\": {\"shape\": {\"unknownRank\": true}},"
        + " \"t\": {\"tensor\": {\"dtype\": 3, \"tensor_shape\": {\"dim\": [{\"size\": \"-1\"}]},"
        + " \"intVal\": [4]}}}, \"unknownThing\": 1}");
    NodeDef.Builder b = NodeDef.newBuilder();
    List<String> unknown = new java.util.ArrayList<>();
    ProtoJson.merge(json, b, "node", unknown::add);
    NodeDef n = b.build();
    assertEquals(List.of("node.unknownThing"), unknown);
    assertEquals(List.of("a", "b:1"), n.getInputList());
    assertEquals(DataType.DT_HALF, n.getAttrOrThrow("T").getType());
    assertEquals(List.of(1L, 2L), n.getAttrOrThrow("strides").getList().getIList());
    assertEquals("SAME", n.getAttrOrThrow("padding").getS().toStringUtf8());
    assertTrue(Float.isNaN(n.getAttrOrThrow("alpha").getF()));
    assertTrue(n.getAttrOrThrow("b").getB());
    assertEquals(AttrValue.ValueCase.LIST, n.getAttrOrThrow("e").getValueCase());
    assertTrue(n.getAttrOrThrow("shape").getShape().getUnknownRank());
    assertEquals(DataType.DT_INT32, n.getAttrOrThrow("t").getTensor().getDtype());
    assertEquals(-1, n.getAttrOrThrow("t").getTensor().getTensorShape().getDim(0).getSize());
    assertEquals(List.of(4), n.getAttrOrThrow("t").getTensor().getIntValList());

    ProtoJson.ProtoJsonException e = assertThrows(ProtoJson.ProtoJsonException.class,
        () -> ProtoJson.merge(Json.parse("{\"attr\": {\"x\": {\"list\": {\"i\": [\"1.5\"]}}}}"),
            NodeDef.newBuilder(), "node", p -> { }));
    assertTrue(e.getMessage().contains("node.attr.x.list.i[0]"), e.getMessage());
  }
}
