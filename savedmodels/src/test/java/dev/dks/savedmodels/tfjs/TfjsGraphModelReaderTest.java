package dev.dks.savedmodels.tfjs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.savedmodels.ModelFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * TF.js graph models written by hand in the test: dequantization against hand-computed values,
 * the split of fused ops and Prelu checked numerically, and corrupt inputs (truncated or extra
 * shard bytes, missing shard, random bytes, wrong shapes, unknown dtypes, quantizations and ops)
 * failing with a {@link ModelFormatException} that names the file, and leaving no output.
 */
class TfjsGraphModelReaderTest {
  @TempDir
  Path dir;

  // ---------------------------------------------------------------- a tiny model.json writer

  private static String dims(long... shape) {
    return Arrays.stream(shape).mapToObj(d -> "{\"size\":\"" + d + "\"}")
        .collect(Collectors.joining(",", "[", "]"));
  }

  private static String constant(String name, String dtype, long... shape) {
    return "{\"name\":\"" + name + "\",\"op\":\"Const\",\"attr\":{\"dtype\":{\"type\":\"" + dtype
        + "\"},\"value\":{\"tensor\":{\"dtype\":\"" + dtype + "\",\"tensorShape\":{\"dim\":"
        + dims(shape) + "}}}}}";
  }

  private static String placeholder(String name, long... shape) {
    return "{\"name\":\"" + name + "\",\"op\":\"Placeholder\",\"attr\":{\"dtype\":{\"type\":"
        + "\"DT_FLOAT\"},\"shape\":{\"shape\":{\"dim\":" + dims(shape) + "}}}}";
  }

  private static String op(String name, String op, String attrs, String... inputs) {
    String in = Arrays.stream(inputs).map(i -> "\"" + i + "\"")
        .collect(Collectors.joining(",", "[", "]"));
    return "{\"name\":\"" + name + "\",\"op\":\"" + op + "\",\"input\":" + in + ",\"attr\":{"
        + "\"T\":{\"type\":\"DT_FLOAT\"}" + (attrs.isEmpty() ? "" : "," + attrs) + "}}";
  }

  private static String weight(String name, String dtype, String quant, long... shape) {
    return "{\"name\":\"" + name + "\",\"shape\":" + Arrays.toString(shape).replace(" ", "")
        + ",\"dtype\":\"" + dtype + "\"" + (quant == null ? "" : ",\"quantization\":" + quant)
        + "}";
  }

  private static String modelJson(List<String> nodes, String manifest, String extra) {
    return "{\"format\":\"graph-model\",\"generatedBy\":\"test\",\"convertedBy\":\"hand\","
        + "\"modelTopology\":{\"node\":[" + String.join(",", nodes) + "],\"versions\":"
        + "{\"producer\":175}}," + (extra.isEmpty() ? "" : extra + ",") + "\"weightsManifest\":"
        + manifest + "}";
  }

  private static ByteBuffer le(int n) {
    return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
  }

  private static byte[] bytes(ByteBuffer b) {
    return Arrays.copyOf(b.array(), b.position());
  }

  // ---------------------------------------------------------------- the dequantization model

  private static final String SIGNATURE = "\"userDefinedMetadata\":{\"signature\":{\"inputs\":"
      + "{\"x:0\":{\"name\":\"x:0\",\"dtype\":\"DT_FLOAT\",\"tensorShape\":{\"dim\":"
      + dims(3) + "}}},\"outputs\":{\"out:0\":{\"name\":\"out:0\",\"dtype\":\"DT_FLOAT\"}}}}";

  /**
   * Writes the dequantization model: out = x + w_u8, and unused Consts of every storage form.
   * Group 1's 38 bytes are split over two shards in the middle of a weight.
   */
  private Path writeQuantModel(String manifestEdit) throws IOException {
    List<String> nodes = List.of(placeholder("x", 3),
        constant("w_u8", "DT_FLOAT", 3), constant("w_u16", "DT_FLOAT", 2),
        constant("w_f16", "DT_FLOAT", 6), constant("w_i32", "DT_INT32", 2),
        constant("w_i32q", "DT_INT32", 3), constant("w_f32", "DT_FLOAT", 2),
        constant("w_bool", "DT_BOOL", 2),
        op("out", "AddV2", "", "x", "w_u8"));
    String group1 = "{\"paths\":[\"group1-shard1of2.bin\",\"group1-shard2of2.bin\"],"
        + "\"weights\":["
        + weight("w_u8", "float32", "{\"min\":-1,\"scale\":0.5,\"dtype\":\"uint8\"}", 3) + ","
        + weight("w_u16", "float32", "{\"dtype\":\"uint16\",\"min\":-0.5,\"scale\":0.001}", 2)
        + "," + weight("w_f16", "float32", "{\"dtype\":\"float16\"}", 6) + ","
        + weight("w_i32", "int32", null, 2) + ","
        + weight("w_i32q", "int32", "{\"min\":-1,\"scale\":1.5,\"dtype\":\"uint8\"}", 3) + ","
        + weight("w_f32", "float32", null, 2) + "]}";
    String group2 = "{\"paths\":[\"group2-shard1of1.bin\"],\"weights\":["
        + weight("w_bool", "bool", null, 2) + "]}";
    String json = modelJson(nodes, "[" + group1 + "," + group2 + "]", SIGNATURE);
    if (manifestEdit != null) {
      String[] fromTo = manifestEdit.split("=>", 2);
      assertTrue(json.contains(fromTo[0]), fromTo[0]);
      json = json.replace(fromTo[0], fromTo[1]);
    }
    ByteBuffer g1 = le(64);
    g1.put((byte) 0).put((byte) 7).put((byte) 255);                        // w_u8
    g1.putShort((short) 1000).putShort((short) 65535);                     // w_u16
    for (int h : new int[] {0x3C00, 0xC000, 0x3555, 0x0001, 0x7BFF, 0x8000}) {
      g1.putShort((short) h);                                              // w_f16
    }
    g1.putInt(7).putInt(-3);                                               // w_i32
    g1.put((byte) 0).put((byte) 1).put((byte) 2);                          // w_i32q
    g1.putFloat(0.25f).putFloat(-8f);                                      // w_f32
    byte[] all = bytes(g1);
    assertEquals(38, all.length);
    Files.write(dir.resolve("group1-shard1of2.bin"), Arrays.copyOfRange(all, 0, 10));
    Files.write(dir.resolve("group1-shard2of2.bin"), Arrays.copyOfRange(all, 10, 38));
    Files.write(dir.resolve("group2-shard1of1.bin"), new byte[] {1, 0});
    Path p = dir.resolve("model.json");
    Files.writeString(p, json);
    return p;
  }

  private static TensorProto value(Model m, String node) {
    return m.graph().getNodeList().stream().filter(n -> n.getName().equals(node)).findFirst()
        .orElseThrow().getAttrOrThrow("value").getTensor();
  }

  private static int[] ints(TensorProto t) {
    ByteBuffer b = t.getTensorContent().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    int[] out = new int[b.remaining() / 4];
    b.asIntBuffer().get(out);
    return out;
  }

  @Test
  void dequantizesUint8Uint16AndFloat16AsTensorFlowJsDoes() throws IOException {
    Model m = TfjsGraphModelReader.read(writeQuantModel(null));
    // uint8: q * scale + min = 0*0.5-1, 7*0.5-1, 255*0.5-1
    assertArrayEquals(new float[] {-1f, 2.5f, 126.5f}, TensorProtos.floats(value(m, "w_u8")));
    // uint16: computed in double, then rounded to float32 (as a JS Float32Array stores it)
    assertArrayEquals(new float[] {0.5f, (float) (65535 * 0.001 - 0.5)},
        TensorProtos.floats(value(m, "w_u16")));
    assertEquals(65.035f, TensorProtos.floats(value(m, "w_u16"))[1], 1e-5f);
    // float16: 1, -2, 0x3555 = 1365/4096 * ... = 0.333251953125, smallest subnormal 2^-24,
    // the largest half 65504, negative zero
    float[] f16 = TensorProtos.floats(value(m, "w_f16"));
    assertArrayEquals(new float[] {1f, -2f, 0.333251953125f, 0x1p-24f, 65504f, -0f}, f16);
    assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(f16[5]), "negative zero");
    TensorProto i32 = value(m, "w_i32");
    assertEquals(DataType.DT_INT32, i32.getDtype());
    assertArrayEquals(new int[] {7, -3}, ints(i32));
    // int32 quantized: Math.round(q * 1.5 - 1) = round(-1), round(0.5) = 1, round(2) = 2
    assertArrayEquals(new int[] {-1, 1, 2}, ints(value(m, "w_i32q")));
    assertArrayEquals(new float[] {0.25f, -8f}, TensorProtos.floats(value(m, "w_f32")));
    TensorProto b = value(m, "w_bool");
    assertEquals(DataType.DT_BOOL, b.getDtype());
    assertArrayEquals(new byte[] {1, 0}, b.getTensorContent().toByteArray());

    Signature s = m.signature(Signature.SERVING_DEFAULT);
    assertEquals(Set.of("x"), s.inputs().keySet());
    assertEquals(Set.of("out"), s.outputs().keySet());
    assertArrayEquals(new long[] {3}, s.outputs().get("out").shape());
    try (ModelSession ms = new ModelSession(m)) {
      Map<String, TensorProto> out = ms.run(
          Map.of("x:0", TensorProtos.ofFloats(new long[] {3}, new float[] {1, 2, 3})),
          List.of("out:0"));
      assertArrayEquals(new float[] {0f, 4.5f, 129.5f}, TensorProtos.floats(out.get("out:0")));
    }
  }

  @Test
  void float16CoversEveryClassOfValue() {
    assertEquals(0f, Float16.toFloat(0));
    assertEquals(Float.POSITIVE_INFINITY, Float16.toFloat(0x7C00));
    assertEquals(Float.NEGATIVE_INFINITY, Float16.toFloat(0xFC00));
    assertTrue(Float.isNaN(Float16.toFloat(0x7E00)));
    assertEquals(0x1p-14f, Float16.toFloat(0x0400), "smallest normal");
    assertEquals(0x3FFp-24f, Float16.toFloat(0x03FF), "largest subnormal");
    assertEquals(-1.5f, Float16.toFloat(0xBE00));
  }

  // ---------------------------------------------------------------- fused ops and Prelu

  /** Writes the fused model's shard and returns its model.json text (not yet written). */
  private String fusedModel() throws IOException {
    String conv = "\"strides\":{\"list\":{\"i\":[\"1\",\"1\",\"1\",\"1\"]}},"
        + "\"padding\":{\"s\":\"U0FNRQ==\"},\"data_format\":{\"s\":\"TkhXQw==\"},"
        + "\"dilations\":{\"list\":{\"i\":[\"1\",\"1\",\"1\",\"1\"]}},"
        + "\"explicit_paddings\":{\"list\":{}},\"epsilon\":{\"f\":0}";
    // fused_ops, base64: "BiasAdd"=Qmlhc0FkZA==, "Prelu"=UHJlbHU=, "Relu6"=UmVsdTY=
    List<String> nodes = List.of(placeholder("x", 1, 1, 1, 2),
        constant("filter", "DT_FLOAT", 1, 1, 2, 2), constant("bias", "DT_FLOAT", 2),
        constant("alpha", "DT_FLOAT", 2),
        op("conv", "_FusedConv2D", conv + ",\"num_args\":{\"i\":\"2\"},\"fused_ops\":{\"list\":"
            + "{\"s\":[\"Qmlhc0FkZA==\",\"UHJlbHU=\"]}},\"use_cudnn_on_gpu\":{\"b\":true}",
            "x", "filter", "bias", "alpha"),
        constant("dw_filter", "DT_FLOAT", 1, 1, 2, 1), constant("dw_bias", "DT_FLOAT", 2),
        op("dw", "FusedDepthwiseConv2dNative", conv + ",\"num_args\":{\"i\":\"1\"},"
            + "\"fused_ops\":{\"list\":{\"s\":[\"Qmlhc0FkZA==\",\"UmVsdTY=\"]}}",
            "conv", "dw_filter", "dw_bias"),
        constant("flat_shape", "DT_INT32", 2),
        "{\"name\":\"flat\",\"op\":\"Reshape\",\"input\":[\"dw\",\"flat_shape\"],\"attr\":{"
            + "\"T\":{\"type\":\"DT_FLOAT\"},\"Tshape\":{\"type\":\"DT_INT32\"}}}",
        constant("w", "DT_FLOAT", 2, 2), constant("b", "DT_FLOAT", 2),
        op("logits", "_FusedMatMul", "\"transpose_a\":{\"b\":false},\"transpose_b\":{\"b\":false},"
            + "\"num_args\":{\"i\":\"1\"},\"fused_ops\":{\"list\":{\"s\":[\"Qmlhc0FkZA==\"]}},"
            + "\"epsilon\":{\"f\":0}", "flat", "w", "b"),
        constant("alpha2", "DT_FLOAT", 2),
        op("prelu", "Prelu", "", "logits", "alpha2"));
    String manifest = "[{\"paths\":[\"w.bin\"],\"weights\":["
        + String.join(",", weight("filter", "float32", null, 1, 1, 2, 2),
            weight("bias", "float32", null, 2), weight("alpha", "float32", null, 2),
            weight("dw_filter", "float32", null, 1, 1, 2, 1),
            weight("dw_bias", "float32", null, 2), weight("flat_shape", "int32", null, 2),
            weight("w", "float32", null, 2, 2), weight("b", "float32", null, 2),
            weight("alpha2", "float32", null, 2)) + "]}]";
    ByteBuffer bb = le(256);
    for (float f : new float[] {1, 2, 3, 4, 0.5f, -10, 0.1f, 0.2f, 2, 3, 0, 1}) {
      bb.putFloat(f);
    }
    bb.putInt(1).putInt(2);
    for (float f : new float[] {1, 2, 3, -4, 1, -30, 0.5f, 0.25f}) {
      bb.putFloat(f);
    }
    Files.write(dir.resolve("w.bin"), bytes(bb));
    return modelJson(nodes, manifest, "");
  }

  @Test
  void splitsFusedConvDepthwiseMatMulAndPreluIntoStandardOps() throws IOException {
    Path json = dir.resolve("model.json");
    Files.writeString(json, fusedModel());

    TfjsGraphModelReader.Result r = TfjsGraphModelReader.readDetailed(json);
    Model m = r.model();
    List<String> ops = m.graph().getNodeList().stream().map(NodeDef::getOp).toList();
    for (String fused : List.of("_FusedConv2D", "FusedDepthwiseConv2dNative", "_FusedMatMul",
        "Prelu")) {
      assertFalse(ops.contains(fused), fused + " left in " + ops);
    }
    assertTrue(ops.containsAll(List.of("Conv2D", "DepthwiseConv2dNative", "MatMul", "BiasAdd",
        "Relu6", "Relu", "Neg", "Sub")), ops.toString());
    // no signature in model.json: the Placeholder in, the sink out
    Signature s = m.signature(Signature.SERVING_DEFAULT);
    assertEquals(Set.of("x"), s.inputs().keySet());
    assertEquals(Set.of("prelu"), s.outputs().keySet());
    assertArrayEquals(new long[] {1, 2}, s.outputs().get("prelu").shape());
    // x = [1, 1]: conv [1+3, 2+4] = [4, 6], + bias [4.5, -4], Prelu(0.1, 0.2) [4.5, -0.8];
    // depthwise * [2, 3] = [9, -2.4], + [0, 1] = [9, -1.4], Relu6 [6, 0];
    // matmul [[1, 2], [3, -4]] = [6, 12], + [1, -30] = [7, -18]; Prelu(0.5, 0.25) [7, -4.5]
    try (ModelSession ms = new ModelSession(m)) {
      Map<String, TensorProto> out = ms.run(
          Map.of("x", TensorProtos.ofFloats(new long[] {1, 1, 1, 2}, new float[] {1, 1})),
          List.of("prelu"));
      assertArrayEquals(new float[] {7f, -4.5f}, TensorProtos.floats(out.get("prelu")), 1e-5f);
      Map<String, TensorProto> mid = ms.run(
          Map.of("x", TensorProtos.ofFloats(new long[] {1, 1, 1, 2}, new float[] {1, 1})),
          List.of("conv"));
      assertArrayEquals(new float[] {4.5f, -0.8f}, TensorProtos.floats(mid.get("conv")), 1e-6f);
    }
  }

  // ---------------------------------------------------------------- corrupt inputs

  private List<Path> listing() throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.sorted().toList();
    }
  }

  /** Reads {@code json}, expecting a failure naming it and containing every {@code part}. */
  private ModelFormatException fails(Path json, String... parts) throws IOException {
    List<Path> before = listing();
    ModelFormatException e = assertThrows(ModelFormatException.class,
        () -> TfjsGraphModelReader.read(json));
    String msg = e.getMessage();
    assertTrue(msg.contains(json.toAbsolutePath().normalize().toString()), msg);
    for (String p : parts) {
      assertTrue(msg.contains(p), "'" + p + "' not in: " + msg);
    }
    assertEquals(before, listing(), "the reader left files behind");
    return e;
  }

  @Test
  void aTruncatedShardFailsNamingTheWeightAndShards() throws IOException {
    Path json = writeQuantModel(null);
    Path shard = dir.resolve("group1-shard2of2.bin");
    byte[] b = Files.readAllBytes(shard);
    Files.write(shard, Arrays.copyOf(b, b.length - 1));
    fails(json, "weight 'w_f32'", "group1-shard2of2.bin", "truncated");
  }

  @Test
  void extraShardBytesFail() throws IOException {
    Path json = writeQuantModel(null);
    Files.write(dir.resolve("group2-shard1of1.bin"), new byte[] {1, 0, 0, 0});
    fails(json, "group2-shard1of1.bin", "hold 4 bytes", "use only 2");
  }

  @Test
  void aMissingShardFailsNamingIt() throws IOException {
    Path json = writeQuantModel(null);
    Files.delete(dir.resolve("group1-shard1of2.bin"));
    fails(json, "'group1-shard1of2.bin'", "missing");
  }

  @Test
  void randomBytesAsModelJsonFail() throws IOException {
    Random rnd = new Random(42);
    for (int i = 0; i < 20; i++) {
      byte[] junk = new byte[1 + rnd.nextInt(4096)];
      rnd.nextBytes(junk);
      Path json = dir.resolve("model.json");
      Files.write(json, junk);
      fails(json, "not valid JSON");
    }
  }

  @Test
  void emptyOrNonObjectOrDeeplyNestedJsonFails() throws IOException {
    Path json = dir.resolve("model.json");
    Files.writeString(json, "");
    fails(json, "not valid JSON");
    Files.writeString(json, "[1, 2]");
    fails(json, "an array, not an object");
    Files.writeString(json, "{\"format\": \"graph-model\"}");
    fails(json, "no modelTopology");
    Files.writeString(json, "[".repeat(100_000));
    fails(json, "nesting depth");
    Files.writeString(json, "{\"modelTopology\": {\"node\": []},}");
    fails(json, "not valid JSON", "line 1");
  }

  @Test
  void aManifestShapeTooLargeForTheShardsFails() throws IOException {
    Path json = writeQuantModel("\"w_u8\",\"shape\":[3]=>\"w_u8\",\"shape\":[4]");
    fails(json, "shape");
  }

  @Test
  void aManifestShapeThatDisagreesWithItsNodeFails() throws IOException {
    // same byte count, other shape
    Path json = writeQuantModel("\"w_f16\",\"shape\":[6]=>\"w_f16\",\"shape\":[2,3]");
    fails(json, "weight 'w_f16'", "[2, 3]", "declares [6]");
  }

  @Test
  void unknownDtypesAndQuantizationsFailNamingTheWeight() throws IOException {
    fails(writeQuantModel("\"w_f32\",\"shape\":[2],\"dtype\":\"float32\"=>"
        + "\"w_f32\",\"shape\":[2],\"dtype\":\"float64\""), "weight 'w_f32'", "float64");
    fails(writeQuantModel("{\"dtype\":\"float16\"}=>{\"dtype\":\"int4\"}"), "weight 'w_f16'",
        "'int4'");
    fails(writeQuantModel("{\"min\":-1,\"scale\":0.5,\"dtype\":\"uint8\"}=>"
        + "{\"dtype\":\"uint8\"}"), "weight 'w_u8'", "scale or min");
  }

  @Test
  void aWeightWhoseDtypeDisagreesWithItsConstFails() throws IOException {
    fails(writeQuantModel("\"w_i32\",\"shape\":[2],\"dtype\":\"int32\"=>"
        + "\"w_i32\",\"shape\":[2],\"dtype\":\"float32\""), "weight 'w_i32'", "DT_INT32");
  }

  @Test
  void anUnknownOpFailsNamingItAndItsNode() throws IOException {
    fails(writeQuantModel("\"op\":\"AddV2\"=>\"op\":\"NoSuchOpFromTfjs\""),
        "'NoSuchOpFromTfjs'", "node 'out'");
  }

  @Test
  void anUnknownAttrTypeFailsNamingTheNode() throws IOException {
    fails(writeQuantModel("{\"type\":\"DT_BOOL\"}=>{\"type\":\"DT_NO_SUCH_TYPE\"}"),
        "('w_bool')", "DT_NO_SUCH_TYPE");
  }

  @Test
  void aConstWithoutAWeightFailsNamingIt() throws IOException {
    fails(writeQuantModel("\"name\":\"w_bool\",\"shape\"=>\"name\":\"w_other\",\"shape\""),
        "Const node 'w_bool'", "no value");
  }

  @Test
  void aSignatureNamingAMissingTensorFallsBackWithAWarning() throws IOException {
    Path json = writeQuantModel("\"name\":\"out:0\"=>\"name\":\"gone:0\"");
    TfjsGraphModelReader.Result r = TfjsGraphModelReader.readDetailed(json);
    assertTrue(r.warnings().stream().anyMatch(w -> w.contains("'gone:0'")), r.warnings()
        .toString());
    assertEquals(Set.of("out"), r.model().signature(Signature.SERVING_DEFAULT).outputs()
        .keySet());
  }

  @Test
  void mutatedModelJsonGivesAModelOrATypedError() throws IOException {
    String good = fusedModel();
    Path json = dir.resolve("model.json");
    Random rnd = new Random(7);
    String alphabet = "{}[]\",:0123456789-.eE tfnulxyzDT_FLOAT";
    int ok = 0;
    int typed = 0;
    for (int i = 0; i < 300; i++) {
      StringBuilder b = new StringBuilder(good);
      for (int k = 1 + rnd.nextInt(3); k > 0; k--) {
        int at = rnd.nextInt(b.length());
        switch (rnd.nextInt(3)) {
          case 0 -> b.deleteCharAt(at);
          case 1 -> b.insert(at, alphabet.charAt(rnd.nextInt(alphabet.length())));
          default -> b.setCharAt(at, alphabet.charAt(rnd.nextInt(alphabet.length())));
        }
      }
      if (rnd.nextInt(10) == 0) {
        b.setLength(rnd.nextInt(b.length()));
      }
      Files.writeString(json, b);
      try {
        TfjsGraphModelReader.read(json);
        ok++;
      } catch (ModelFormatException e) {
        typed++;
      } catch (RuntimeException | Error e) {
        throw new AssertionError("mutation " + i + " gave " + e + " instead of a "
            + "ModelFormatException; text: " + b, e);
      }
    }
    System.out.println("mutated model.json: " + ok + " read, " + typed + " typed errors");
    assertTrue(typed > 100, "typed errors: " + typed);
  }

  @Test
  void aLayersModelIsRefused() throws IOException {
    Path json = dir.resolve("model.json");
    Files.writeString(json, "{\"format\":\"layers-model\",\"modelTopology\":{\"class_name\":"
        + "\"Sequential\",\"config\":{}},\"weightsManifest\":[]}");
    fails(json, "layers model");
  }

  @Test
  void readsAFolderAsItsModelJson() throws IOException {
    writeQuantModel(null);
    Model m = TfjsGraphModelReader.read(dir);
    assertEquals(9, m.graph().getNodeCount());
    List<String> names = new ArrayList<>();
    m.graph().getNodeList().forEach(n -> names.add(n.getName()));
    assertTrue(names.contains("w_bool"));
  }
}
