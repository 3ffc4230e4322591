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
import dev.dks.rewriter.model.TensorSpec;
import dev.dks.savedmodels.ModelFormatException;
import dev.dks.savedmodels.TestAssets;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * The nsfwjs 4.4.0 MobileNetV2 graph model ({@code mobilenet_v2_mid}: _FusedConv2D,
 * FusedDepthwiseConv2dNative, _FusedMatMul, uint8-quantized weights) read from {@code
 * data-cache/} (see {@code scripts/fetch-assets.sh}); skipped when the cache is missing, failed
 * then under {@code DKS_REQUIRE_SHARED}.
 */
class NsfwjsGraphModelTest {
  private static final String MODEL = "nsfwjs-4.4.0/mobilenet_v2_mid";
  /** nsfwjs' class order (dist/cjs/nsfw_classes.js). */
  private static final List<String> CLASSES =
      List.of("Drawing", "Hentai", "Neutral", "Porn", "Sexy");
  private static final int NEUTRAL = CLASSES.indexOf("Neutral");

  /**
   * TF.js 4.22.0 (cpu backend) on this model, batch of 2 synthetic images {@code ((x*3 + y*5 +
   * c*70 + b*101) mod 256) / 255}: the reference the reader must reproduce exactly (up to float
   * summation order), independent of any JPEG decoder.
   */
  private static final float[] TFJS_SYNTHETIC = {
      0.0011362304f, 0.00020226212f, 0.99865913f, 8.386813e-7f, 1.5259932e-6f,
      0.002550788f, 0.0002052588f, 0.99724066f, 9.937837e-7f, 2.311855e-6f};

  private static Model model;
  private static TfjsGraphModelReader.Result result;

  @BeforeAll
  static void read() {
    Path json = TestAssets.dataCache(MODEL + "/model.json");
    result = TfjsGraphModelReader.readDetailed(json);
    model = result.model();
  }

  @Test
  void splitsEveryFusedOpAndKeepsTheSignature() {
    Map<String, Integer> ops = new TreeMap<>();
    model.graph().getNodeList().forEach(n -> ops.merge(n.getOp(), 1, Integer::sum));
    assertFalse(ops.containsKey("_FusedConv2D") || ops.containsKey("FusedDepthwiseConv2dNative")
        || ops.containsKey("_FusedMatMul"), ops.toString());
    assertEquals(35, ops.get("Conv2D"));
    assertEquals(17, ops.get("DepthwiseConv2dNative"));
    assertEquals(53, ops.get("BiasAdd"));
    assertEquals(35, ops.get("Relu6"));
    assertEquals(10, ops.get("AddV2"));
    assertEquals(1, ops.get("MatMul"));
    assertEquals(108, ops.get("Const"));
    assertTrue(result.warnings().isEmpty(), result.warnings().toString());

    Signature s = model.signature(Signature.SERVING_DEFAULT);
    assertEquals(Signature.PREDICT_METHOD, s.methodName());
    TensorSpec in = s.inputs().get("input");
    assertEquals("input", in.tensor().node());
    assertEquals(DataType.DT_FLOAT, in.dtype());
    assertArrayEquals(new long[] {-1, 224, 224, 3}, in.shape());
    TensorSpec out = s.outputs().get("Identity");
    assertEquals("Identity", out.tensor().node());
    assertArrayEquals(new long[] {-1, 5}, out.shape());
    assertTrue(model.variables().isEmpty());
    for (NodeDef n : model.graph().getNodeList()) {
      if (n.getOp().equals("Const")) {
        TensorProto t = n.getAttrOrThrow("value").getTensor();
        assertEquals(DataType.DT_FLOAT, t.getDtype(), n.getName());
        long count = 1;
        for (long d : TensorProtos.shape(t)) {
          count *= d;
        }
        assertEquals(4 * count, t.getTensorContent().size(), n.getName());
      }
    }
  }

  @Test
  void reproducesTensorFlowJsOnASyntheticBatch() {
    float[] x = new float[2 * 224 * 224 * 3];
    for (int b = 0; b < 2; b++) {
      for (int y = 0; y < 224; y++) {
        for (int i = 0; i < 224; i++) {
          for (int c = 0; c < 3; c++) {
            x[((b * 224 + y) * 224 + i) * 3 + c] = ((i * 3 + y * 5 + c * 70 + b * 101) % 256)
                / 255f;
          }
        }
      }
    }
    float[] p = run(x, 2);
    for (int i = 0; i < p.length; i++) {
      assertEquals(TFJS_SYNTHETIC[i], p[i], 2e-5, "probability " + i);
    }
  }

  @Test
  void classifiesBothSklearnPhotosAsNeutral() throws IOException {
    // assets.md reports p = 0.96 and 0.99; TF.js 4.22 itself (jpeg-js decoder) gives 0.9195 and
    // 0.9700 on these files; ImageIO decodes the JPEGs slightly differently (<= 0.01 per pixel)
    Map<String, double[]> expected = Map.of(
        "china.jpg", new double[] {0.96, 0.9195},
        "flower.jpg", new double[] {0.99, 0.9700});
    for (Map.Entry<String, double[]> e : new TreeMap<>(expected).entrySet()) {
      float[] x = TestAssets.photo(TestAssets.dataCache("sklearn/" + e.getKey()), 224);
      float[] p = run(x, 1);
      int argmax = 0;
      for (int i = 1; i < p.length; i++) {
        argmax = p[i] > p[argmax] ? i : argmax;
      }
      System.out.printf("nsfwjs mobilenet_v2_mid on %s: %s p=%.4f%n", e.getKey(),
          CLASSES.get(argmax), p[argmax]);
      assertEquals(NEUTRAL, argmax, e.getKey() + " classified as " + CLASSES.get(argmax));
      assertEquals(e.getValue()[0], p[NEUTRAL], 0.05, e.getKey() + " vs assets.md");
      assertEquals(e.getValue()[1], p[NEUTRAL], 0.01, e.getKey() + " vs TF.js");
    }
  }

  @Test
  void aTruncatedRealShardFailsNamingTheShards(@TempDir Path tmp) throws IOException {
    Path dir = copyModel(tmp);
    Path shard = dir.resolve("group1-shard2of2.bin");
    try (FileChannel ch = FileChannel.open(shard, StandardOpenOption.WRITE)) {
      ch.truncate(ch.size() - 1000);
    }
    List<Path> before = list(dir);
    ModelFormatException e = assertThrows(ModelFormatException.class,
        () -> TfjsGraphModelReader.read(dir.resolve("model.json")));
    assertTrue(e.getMessage().contains("group1-shard2of2.bin")
        && e.getMessage().contains("truncated"), e.getMessage());
    assertEquals(before, list(dir), "no partial output");
  }

  @Test
  void aWrongShapeInTheRealManifestFails(@TempDir Path tmp) throws IOException {
    Path dir = copyModel(tmp);
    Path json = dir.resolve("model.json");
    String text = Files.readString(json);
    String from = "\"shape\":[3,3,3,48]";
    assertTrue(text.contains(from));
    Files.writeString(json, text.replaceFirst("\\Q" + from + "\\E", "\"shape\":[3,3,3,47]"));
    ModelFormatException e = assertThrows(ModelFormatException.class,
        () -> TfjsGraphModelReader.read(json));
    assertTrue(e.getMessage().contains(json.toString()), e.getMessage());
  }

  @Test
  void theKerasLayersModelIsRefusedButItsWeightsRead() {
    Path json = TestAssets.dataCache("nsfwjs-4.4.0/mobilenet_v2/model.json");
    ModelFormatException e = assertThrows(ModelFormatException.class,
        () -> TfjsGraphModelReader.read(json));
    assertTrue(e.getMessage().contains("layers model"), e.getMessage());
    Map<String, TensorProto> w = TfjsWeights.read(json);
    assertEquals(266, w.size());
    assertArrayEquals(new long[] {3, 3, 3, 32}, TensorProtos.shape(w.get("Conv1/kernel")));
    float[] k = TensorProtos.floats(w.get("Conv1/kernel"));
    for (float v : k) {
      // uint8 with min -0.8733 and scale 0.0066668: every value lies in [min, min + 255 scale]
      assertTrue(v >= -0.8734f && v <= -0.8733f + 255 * 0.0066668f, "value " + v);
    }
  }

  private static float[] run(float[] x, int batch) {
    try (ModelSession s = new ModelSession(model)) {
      Map<String, TensorProto> out = s.run(
          Map.of("input:0", TensorProtos.ofFloats(new long[] {batch, 224, 224, 3}, x)),
          List.of("Identity:0"));
      return TensorProtos.floats(out.get("Identity:0"));
    }
  }

  private static Path copyModel(Path tmp) throws IOException {
    Path src = TestAssets.dataCache(MODEL);
    Path dir = tmp.resolve("model");
    Files.createDirectories(dir);
    try (Stream<Path> files = Files.list(src)) {
      for (Path f : files.toList()) {
        Files.copy(f, dir.resolve(f.getFileName().toString()));
      }
    }
    return dir;
  }

  private static List<Path> list(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.sorted().toList();
    }
  }
}
