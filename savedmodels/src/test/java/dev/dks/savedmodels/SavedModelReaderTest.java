package dev.dks.savedmodels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorProtos;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * Reads the real SavedModels of {@code shared/models} and checks that the TF1-style model gives
 * the same outputs as the original SavedModel on the same random inputs.
 */
class SavedModelReaderTest {
  private static final Set<String> LEFTOVERS = Set.of("PartitionedCall", "StatefulPartitionedCall",
      "VarHandleOp", "ReadVariableOp");

  private static Path model(String name) {
    return TestAssets.sharedModel(name);
  }

  /**
   * Every signature the original can run on random inputs gives the same outputs after reading
   * (max abs diff < 1e-5), and no function call or resource variable op is left on any
   * signature's path. TF2 models: functions + resource variables; TF1: VariableV2 or resource.
   */
  @ParameterizedTest
  @ValueSource(strings = {
      // the four the issue names
      "tfserving_half_plus_two_tf2_cpu", "tm_mobilenetv2_035_tf115", "mlperftiny_kws_dscnn",
      "tfnet_python_func_model_transformer",
      // TF2 with functions
      "tfnet_lstm_from_sequential", "tfnet_simple_model_from_auto_compile",
      "tfexamples_fake_effdet_lite0_hub", "tfexamples_saved_model_v2_mini",
      "tfjava_saved_model_using_python", "tfjs_int64_multiply", "tfjs_model_multi_output",
      "tfjs_module_with_multiple_signatures", "tfjs_uint8_multiply",
      // TF2 with a training signature (ResourceApplyGradientDescent, an int64 step counter)
      "tfrust_regression_savedmodel",
      // TF1 (ref or resource variables, text format, several signatures, tf.Example inputs)
      "mlnet_cifar_saved_model", "mlnet_mnist_conv_model", "tf2onnx_regression_saved_model",
      "tfjava_saved_model", "tfrust_regression_model", "tfserving_counter",
      "tfserving_half_plus_two_cpu", "tfserving_half_plus_two_mkl",
      "tfserving_matrix_half_plus_two", "vespa_external_modelv1", "vespa_external_modelv2",
      "vespa_tf1_batch_norm_mnist", "vespa_tf1_dropout", "vespa_tf1_mnist"})
  void outputsMatchTheOriginal(String name) {
    Path dir = model(name);
    SavedModelReader.Result r = SavedModelReader.readDetailed(dir);
    Model m = r.model();
    assertTrue(r.warnings().isEmpty(), name + ": " + r.warnings());
    assertFalse(m.signatures().isEmpty(), name);
    assertNoLeftovers(m, name);

    Random rnd = new Random(7);
    int compared = 0;
    List<String> skipped = new ArrayList<>();
    int inModelSession = 0;
    ModelRuns.Runner floatRunner = null;
    ModelRuns.Runner anyRunner = null;
    try (SavedModelBundle b = SavedModelBundle.loader(dir.toString())
            .withTags(r.tags().toArray(String[]::new)).load()) {
      for (Signature s : m.signatures()) {
        if (!ModelRuns.feedable(s)) {
          skipped.add(s.key() + " (an input type TF Java cannot feed)");
          continue;
        }
        List<String> fetches = s.outputs().values().stream().map(t -> t.tensor().toString())
            .toList();
        Map<String, TensorProto> feeds = null;
        Map<String, TensorProto> want = null;
        for (int batch : new int[] {2, 1}) {
          feeds = ModelRuns.randomFeeds(s, rnd, batch);
          try {
            want = ModelRuns.run(b.session(), feeds, fetches);
            break;
          } catch (RuntimeException e) {
            // e.g. a fixed-size constant that does not broadcast against a batch of 2
          }
        }
        if (want == null) {
          skipped.add(s.key() + " (the original does not run on random inputs)");
          continue;
        }
        // float inputs and variables: the rewriter's ModelSession; else a session for any dtype
        ModelRuns.Runner rebuilt;
        if (ModelRuns.floatOnly(m, s)) {
          floatRunner = floatRunner != null ? floatRunner : ModelRuns.open(m, true);
          rebuilt = floatRunner;
          inModelSession++;
        } else {
          anyRunner = anyRunner != null ? anyRunner : ModelRuns.open(m, false);
          rebuilt = anyRunner;
        }
        Map<String, TensorProto> got = rebuilt.run(feeds, fetches);
        for (String f : fetches) {
          double d = ModelRuns.maxDiff(want.get(f), got.get(f));
          assertTrue(d < 1e-5, name + " " + s.key() + " " + f + ": max abs diff " + d);
        }
        compared++;
      }
    } finally {
      if (floatRunner != null) {
        floatRunner.close();
      }
      if (anyRunner != null) {
        anyRunner.close();
      }
    }
    System.out.println(name + ": " + compared + " signatures match (" + inModelSession
        + " run in ModelSession)" + (skipped.isEmpty() ? "" : "; not compared: " + skipped));
    assertTrue(compared > 0, name + ": no signature could be compared: " + skipped);
  }

  /** Float-only models run in the rewriter's ModelSession itself. */
  @Test
  void kwsRunsInModelSession() {
    Model m = SavedModelReader.read(model("mlperftiny_kws_dscnn"));
    assertEquals(56, m.variables().size());
    Signature s = m.signature(Signature.SERVING_DEFAULT);
    Map<String, TensorProto> feeds = ModelRuns.randomFeeds(s, new Random(1), 2);
    String out = s.outputs().values().iterator().next().tensor().toString();
    try (ModelSession ms = new ModelSession(m)) {
      float[] p = TensorProtos.floats(ms.run(feeds, List.of(out)).get(out));
      assertEquals(24, p.length);
      double sum = 0;
      for (int i = 0; i < 12; i++) {
        sum += p[i];
      }
      assertEquals(1.0, sum, 1e-5, "softmax row");
    }
  }

  /**
   * TF Java refuses this model (a DT_FLOAT signature on a DT_STRING tensor, and shapes that
   * contradict the graph): the bad signature is left out with a warning, the other is kept with
   * the graph's shapes, and y = x / 2 + 3.
   */
  @Test
  void inconsistentSignaturesAreLeftOutWithAWarning() {
    SavedModelReader.Result r = SavedModelReader.readDetailed(model("tfserving_half_plus_three"));
    assertTrue(r.warnings().stream().anyMatch(w -> w.contains("'tensorflow/serving/regress'")
        && w.contains("left out")), r.warnings().toString());
    assertEquals(List.of("serving_default"),
        r.model().signatures().stream().map(Signature::key).toList());
    try (ModelSession ms = new ModelSession(r.model())) {
      TensorProto x = TensorProtos.ofFloats(new long[] {3, 1}, new float[] {0, 1, -4});
      float[] y = TensorProtos.floats(ms.run(Map.of("x:0", x), List.of("y:0")).get("y:0"));
      assertEquals(3f, y[0], 1e-6);
      assertEquals(3.5f, y[1], 1e-6);
      assertEquals(1f, y[2], 1e-6);
    }
  }

  /** A TF-Hub v1 module has no saver: it loads, but its variables have no value: a typed error. */
  @Test
  void variablesWithoutValuesFailTheRead() {
    ModelFormatException e = assertThrows(ModelFormatException.class,
        () -> SavedModelReader.read(model("tfexamples_hub_module_v1_mini_train")));
    assertTrue(e.getMessage().contains("variable 'a' has no value"), e.getMessage());
  }

  /** Inputs of types TF Java has no tensor class for: the model still reads, unchanged. */
  @Test
  void unfeedableInputTypesStillRead() {
    SavedModelReader.Result r = SavedModelReader.readDetailed(model("mlnet_model_types_test"));
    assertTrue(r.warnings().isEmpty(), r.warnings().toString());
    assertEquals(11, r.model().signature(Signature.SERVING_DEFAULT).inputs().size());
  }

  @Test
  void foldersThatAreNotSavedModelsFailWithATypedError(@TempDir Path tmp) throws IOException {
    assertThrows(ModelFormatException.class, () -> SavedModelReader.read(tmp));
    Files.write(tmp.resolve("saved_model.pb"), new byte[] {1, 2, 3, 4, 5, 6, 7});
    assertThrows(ModelFormatException.class, () -> SavedModelReader.read(tmp));
  }

  @Test
  void missingVariablesFailWithATypedError(@TempDir Path tmp) throws IOException {
    Path src = model("tfnet_python_func_model_transformer");
    Files.copy(src.resolve("saved_model.pb"), tmp.resolve("saved_model.pb"));
    ModelFormatException e = assertThrows(ModelFormatException.class,
        () -> SavedModelReader.read(tmp));
    assertTrue(e.getMessage().contains("transformer/matrix"), e.getMessage());
  }

  /** The structure later passes rewrite is all there once functions are inlined. */
  @Test
  void servingPathsKeepTheirLayers() {
    Map<String, Integer> kws = servingOps(SavedModelReader.read(model("mlperftiny_kws_dscnn")));
    assertEquals(9, kws.get("FusedBatchNormV3"), kws.toString());
    assertEquals(5, kws.get("Conv2D"), kws.toString());
    assertEquals(4, kws.get("DepthwiseConv2dNative"), kws.toString());
    Map<String, Integer> mobilenet =
        servingOps(SavedModelReader.read(model("tm_mobilenetv2_035_tf115")));
    assertEquals(52, mobilenet.get("FusedBatchNormV3"), mobilenet.toString());
    assertEquals(10, mobilenet.get("AddV2"), mobilenet.toString());
    assertEquals(263, mobilenet.get("VariableV2"), mobilenet.toString());
  }

  private static Map<String, Integer> servingOps(Model m) {
    GraphView g = GraphView.of(m.graph());
    Set<String> live = g.ancestors(m.signature(Signature.SERVING_DEFAULT).outputs().values()
        .stream().map(t -> t.tensor().node()).toList());
    Map<String, Integer> ops = new java.util.TreeMap<>();
    for (NodeDef n : m.graph().getNodeList()) {
      if (live.contains(n.getName())) {
        ops.merge(n.getOp(), 1, Integer::sum);
      }
    }
    return ops;
  }

  @Test
  void frozenGraphFolderIsNotASavedModel() {
    ModelFormatException e = assertThrows(ModelFormatException.class,
        () -> SavedModelReader.read(model("frozen_mlnet_cifar_model")));
    assertTrue(e.getMessage().contains("saved_model.pb"), e.getMessage());
  }

  @Test
  void unknownTagsFailWithATypedError() {
    assertThrows(ModelFormatException.class,
        () -> SavedModelReader.read(model("tfserving_half_plus_two_cpu"), "no-such-tag"));
  }

  private static void assertNoLeftovers(Model m, String name) {
    GraphView g = GraphView.of(m.graph());
    Set<String> live = g.ancestors(m.outputNodes());
    for (NodeDef n : m.graph().getNodeList()) {
      assertFalse(n.getName().startsWith("save/") || n.getName().startsWith("saver_filename"),
          name + ": the saver node " + n.getName() + " is still there");
      assertFalse(live.contains(n.getName()) && LEFTOVERS.contains(n.getOp()),
          name + ": " + n.getName() + " (" + n.getOp() + ") is still on a signature's path");
      if (n.getOp().equals("VariableV2") && live.contains(n.getName())) {
        assertTrue(m.variables().containsKey(n.getName()), name + ": no value for "
            + n.getName());
      }
    }
  }
}
