package dev.dks.trainers.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.savedmodels.SavedModelReader;
import dev.dks.savedmodels.export.ServingExporter;
import dev.dks.trainers.data.Dataset;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The standardization ops inside the model compute what {@link Dataset#standardized} computes in
 * Java (a second implementation), survive the serving export with the same signature, and are
 * never added twice.
 */
class InputStandardizationTest {
  private static final int H = 5;
  private static final int W = 5;
  private static final int C = 3;
  private static final int N = 6;

  @TempDir
  Path tmp;

  private static Model cnn() {
    return ModelBuilder.build(ArchitectureSpec.builder(Architecture.PLAIN_CNN, 3).width(4)
        .input(H + "x" + W + "x" + C).classes(4).activation("tanh").seed(3).build()).model();
  }

  /** Channel 0 in [0, 1], channel 1 around 5 with spread 2, channel 2 constant 7 (std 0). */
  private static Dataset data() {
    Random r = new Random(11);
    float[] x = new float[N * H * W * C];
    for (int i = 0; i < x.length; i++) {
      x[i] = switch (i % C) {
        case 0 -> r.nextFloat();
        case 1 -> 5f + 2f * (float) r.nextGaussian();
        default -> 7f;
      };
    }
    return new Dataset("t", x, new int[N], H, W, C, 4);
  }

  private static float[] logits(Model m, float[] x) {
    Signature s = m.signature(Signature.SERVING_DEFAULT);
    String in = s.inputs().values().iterator().next().tensor().toString();
    String out = s.outputs().values().iterator().next().tensor().toString();
    try (ModelSession session = new ModelSession(m)) {
      return TensorProtos.floats(session.run(Map.of(in, TensorProtos.ofFloats(
          new long[] {N, H, W, C}, x)), List.of(out)).get(out));
    }
  }

  @Test
  void rawInputThroughTheOpsGivesTheLogitsOfJavaStandardizedInput() {
    Model m = cnn();
    Dataset d = data();
    Dataset.ChannelStats stats = d.channelStats();
    InputStandardization.Result r = InputStandardization.apply(m, stats);
    assertTrue(r.added() && r.standardizes(), r.note());
    float[] want = logits(m, d.standardized(stats).images());
    float[] got = logits(r.model(), d.images());
    assertArrayEquals(want, got, 1e-5f);
    assertEquals(1f, r.std()[2], 0f, "a constant channel divides by 1");
    // negative control: the unchanged model on raw input is far from it
    float[] raw = logits(m, d.images());
    double diff = 0;
    for (int i = 0; i < raw.length; i++) {
      diff = Math.max(diff, Math.abs(raw[i] - want[i]));
    }
    assertTrue(diff > 1e-2, "raw and standardized inputs give the same logits: " + diff);
  }

  @Test
  void theServingExportStandardizesAndKeepsTheSignature() {
    Model m = cnn();
    Dataset d = data();
    InputStandardization.Result r = InputStandardization.apply(m, d.channelStats());
    Path dir = tmp.resolve("serving");
    ServingExporter.export(r.model(), dir);
    Model back = SavedModelReader.read(dir, "serve");
    var before = m.signature(Signature.SERVING_DEFAULT).inputs();
    var after = back.signature(Signature.SERVING_DEFAULT).inputs();
    assertEquals(before.keySet(), after.keySet());
    var specBefore = before.values().iterator().next();
    var specAfter = after.values().iterator().next();
    assertEquals(specBefore.tensor(), specAfter.tensor());
    assertEquals(specBefore.dtype(), specAfter.dtype());
    assertArrayEquals(specBefore.shape(), specAfter.shape());
    assertArrayEquals(logits(m, d.standardized(d.channelStats()).images()),
        logits(back, d.images()), 1e-5f);
    // read back from the exported graph: the same constants, and a second apply adds nothing
    InputStandardization.Result again = InputStandardization.apply(back, data().standardized()
        .channelStats());
    assertFalse(again.added(), again.note());
    assertArrayEquals(r.mean(), again.mean(), 0f);
    assertArrayEquals(r.std(), again.std(), 1e-6f);
    assertEquals(back.graph(), again.model().graph());
  }

  @Test
  void aNonImageInputIsATypedErrorNamingItsShape() {
    // asked for and impossible (no channel axis): an error naming the input and its shape, not a
    // note the user may miss while the run trains on raw values
    Model m = TestModels.identityLinear();
    InputNotStandardizableException e = assertThrows(InputNotStandardizableException.class,
        () -> InputStandardization.apply(m,
            new Dataset.ChannelStats(new float[] {1f}, new float[] {2f})));
    assertTrue(e.getMessage().contains("'input' is float32 [-1, 3]"), e.getMessage());
    assertTrue(e.getMessage().contains("--standardize off"), e.getMessage());
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
  }
}
