package dev.dks.savedmodels.keras;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.model.TensorSpec;
import dev.dks.savedmodels.TestAssets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.NodeDef;

/**
 * The Keras (TF.js layers) MobileNetV2 of nsfwjs 4.4.0 ({@code
 * data-cache/nsfwjs-4.4.0/mobilenet_v2/model.json}, uint8-quantized): 52 BatchNormalization as
 * FusedBatchNormV3, 10 residual AddV2, 35 ReLU(max_value=6) as Relu6; classifies Debian's two
 * sklearn photos as "Neutral" like the nsfwjs graph model (p = 0.96 and 0.99).
 *
 * <p>Preprocessing as nsfwjs 4.4.0 {@code dist/cjs/core.js} does it: pixels / 255 (0..1), bilinear
 * resize to 224x224 with {@code alignCorners = true}; classes {@code dist/cjs/nsfw_classes.js}:
 * Drawing, Hentai, Neutral, Porn, Sexy.
 *
 * <p>Two expectations: the brief's numbers for the nsfwjs graph model (0.96 / 0.99, tolerance
 * 0.05), and the numbers TensorFlow.js 4.22 itself gives for this same Keras layers model on the
 * same preprocessing (jpeg-js decode, {@code tf.image.resizeBilinear(.., alignCorners=true)},
 * CPU backend: p(Neutral) = 0.996651 for china.jpg, 0.995285 for flower.jpg), tolerance 0.005
 * (the JPEG decoders differ).
 */
class NsfwjsKerasMobileNetV2Test {
  static final List<String> CLASSES = List.of("Drawing", "Hentai", "Neutral", "Porn", "Sexy");
  private static final int SIZE = 224;

  @Test
  void loadsAndClassifiesBothPhotosAsNeutral() throws Exception {
    Path json = TestAssets.dataCache("nsfwjs-4.4.0/mobilenet_v2/model.json");
    Path china = TestAssets.dataCache("sklearn/china.jpg");
    Path flower = TestAssets.dataCache("sklearn/flower.jpg");
    long t0 = System.nanoTime();
    Model m = KerasModelReader.readLayersJson(json);
    System.out.printf("nsfwjs mobilenet_v2 (Keras) read in %d ms%n",
        (System.nanoTime() - t0) / 1_000_000);

    Map<String, Integer> ops = new TreeMap<>();
    for (NodeDef n : m.graph().getNodeList()) {
      ops.merge(n.getOp(), 1, Integer::sum);
    }
    System.out.println("nsfwjs mobilenet_v2 ops: " + ops);
    assertEquals(52, ops.get("FusedBatchNormV3"));
    assertEquals(10, ops.get("AddV2"));
    assertEquals(35, ops.get("Relu6"));
    assertEquals(17, ops.get("DepthwiseConv2dNative"));

    Signature sig = m.signature(Signature.SERVING_DEFAULT);
    TensorSpec in = sig.inputs().get("input_1");
    TensorSpec out = sig.outputs().get("dense_3");
    assertEquals("[-1, 224, 224, 3]", Arrays.toString(in.shape()));
    assertEquals("[-1, 5]", Arrays.toString(out.shape()));

    try (ModelSession s = new ModelSession(m)) {
      check(s, in, out, china, 0.96, 0.996651);
      check(s, in, out, flower, 0.99, 0.995285);
    }
  }

  private static void check(ModelSession s, TensorSpec in, TensorSpec out, Path jpg,
      double expected, double tfjs) throws Exception {
    float[] x = TestAssets.photo(jpg, SIZE);
    float[] p = TensorProtos.floats(s.run(
        Map.of(in.tensor().toString(), TensorProtos.ofFloats(new long[] {1, SIZE, SIZE, 3}, x)),
        List.of(out.tensor().toString())).values().iterator().next());
    int best = 0;
    for (int i = 1; i < p.length; i++) {
      if (p[i] > p[best]) {
        best = i;
      }
    }
    System.out.printf("%s: %s p=%.4f  all=%s%n", jpg.getFileName(), CLASSES.get(best), p[best],
        Arrays.toString(p));
    assertEquals("Neutral", CLASSES.get(best), jpg + " " + Arrays.toString(p));
    assertTrue(Math.abs(p[best] - expected) < 0.05, jpg + ": p(Neutral) = " + p[best]
        + ", expected " + expected + " +- 0.05");
    assertTrue(Math.abs(p[best] - tfjs) < 0.005, jpg + ": p(Neutral) = " + p[best]
        + ", TensorFlow.js gives " + tfjs + " for this model");
  }
}
