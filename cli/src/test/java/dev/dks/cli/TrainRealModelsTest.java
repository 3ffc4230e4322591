package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorSpec;
import dev.dks.savedmodels.SavedModelReader;
import dev.dks.savedmodels.export.ServingCheck;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dks train MODEL --data D} with no tuning flag on real models of shapes the builder does
 * not make (../shared/models; skipped with a reason when absent). Each trains on a small
 * synthetic set of its input size for a few steps; the test loss must fall well below the
 * ln 10 = 2.303 of chance, and the served model must keep its signature and pass the serving
 * check. Both models were refused before: the TF1 MLP for its flat input, the Keras model for
 * TensorFlow's missing IdentityN gradient.
 */
class TrainRealModelsTest {
  @TempDir static Path tmp;
  private static final double CHANCE = Math.log(10);

  /** A TF1 MLP on MNIST whose input is a flat [-1, 784]: fed each 28x28 image row-major. */
  @Test
  void tf1MlpWithAFlatInput() throws Exception {
    Path model = Assets.sharedModel("vespa_tf1_mnist");
    Path out = tmp.resolve("tf1");
    Cli r = Cli.run("train", model.toString(), "--data", "synthetic:28x28x1:10:512", "--steps",
        "30", "--batch", "32", "--json", "--out", out.toString());
    assertEquals(0, r.code(), r.err());
    JsonNode j = Json.MAPPER.readTree(r.out());
    assertLearned(j);
    TensorSpec in = servedInput(out.resolve("serving"));
    assertArrayEquals(new long[] {-1, 784}, in.shape());
  }

  /**
   * A Keras (TF2) classifier: its served output is the IdentityN the function inliner leaves
   * with the call's name, behind it Identity and Softmax; trained on the Softmax's input.
   */
  @Test
  void kerasModelServedThroughTheInlinersIdentityN() throws Exception {
    Path model = Assets.sharedModel("tfnet_simple_model_from_auto_compile");
    Path out = tmp.resolve("keras");
    Cli r = Cli.run("train", model.toString(), "--data", "synthetic:28x28x1:10:512", "--steps",
        "30", "--batch", "32", "--json", "--out", out.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.err().contains("logits: StatefulPartitionedCall/StatefulPartitionedCall/model/"
        + "dense_1/BiasAdd"), r.err());
    assertLearned(Json.MAPPER.readTree(r.out()));
    assertArrayEquals(new long[] {-1, 28, 28, 1}, servedInput(out.resolve("serving")).shape());
  }

  private static void assertLearned(JsonNode j) {
    assertEquals("completed", j.get("status").asText(), j.toString());
    double loss = j.get("test").get("loss").asDouble();
    assertTrue(loss < 0.5 * CHANCE, "test loss " + loss + " not well below ln 10");
    ServingCheck.Result check = ServingCheck.check(Path.of(j.get("serving").asText()));
    assertTrue(check.passed(), check.reason());
  }

  private static TensorSpec servedInput(Path serving) throws Exception {
    Signature s = SavedModelReader.read(serving).signature(Signature.SERVING_DEFAULT);
    return s.inputs().values().iterator().next();
  }
}
