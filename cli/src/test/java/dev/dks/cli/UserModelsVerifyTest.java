package dev.dks.cli;

import static dev.dks.cli.Cli.assertOneErrorLine;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dks rewrite} then {@code dks verify} on models other people wrote (issue 12's verify
 * sweep): Vespa's TF1 MNIST, whose first hidden layer is {@code Maximum(0.01 z, z)}, is shaped
 * and passes (before: the Maximum stayed raw and verify failed with c error 0.253); Vespa's
 * external model, whose layers also read a second input, is refused with one line naming it
 * (before: TensorFlow's "You must feed a value" text); TF Serving's matrix_half_plus_two (y = x/2
 * + 2, no layer, no activation) is refused by rewrite, which writes nothing (before: written, and
 * verify judged q 4.1 against 1). TF.js's module_with_multiple_signatures (two scalar-input
 * signatures, x * 3 and x * 2) reaches the same refusal (before: pln emitted a Mean over axis -1
 * of a rank-0 input and TensorFlow rejected the graph).
 */
class UserModelsVerifyTest {
  @TempDir Path tmp;

  @Test
  void vespaMnistWithAMaximumLeakyReluIsShapedAndPasses() throws IOException {
    Path out = tmp.resolve("mnist");
    Cli r = Cli.run("rewrite", Assets.sharedModel("vespa_tf1_mnist").toString(), "--out",
        out.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("dnn/hidden1/Maximum"), r.out());
    Cli v = Cli.run("verify", out.toString(), "--json");
    JsonNode j = new ObjectMapper().readTree(v.out());
    assertEquals(0, v.code(), v.out() + v.err());
    assertTrue(j.get("passed").asBoolean(), j.toString());
  }

  @Test
  void aSecondModelInputIsNamedInOneLine() {
    Path out = tmp.resolve("external");
    Cli r = Cli.run("rewrite", Assets.sharedModel("vespa_external_modelv1").toString(), "--out",
        out.toString());
    assertEquals(0, r.code(), r.err());
    assertOneErrorLine(Cli.run("verify", out.toString()), "placeholder 'input_2' (float [?,3])",
        "placeholder_with_default");
  }

  @Test
  void aModelWithNothingToShapeIsRefusedAndNothingWritten() {
    Path out = tmp.resolve("half");
    assertOneErrorLine(Cli.run("rewrite",
        Assets.sharedModel("tfserving_matrix_half_plus_two").toString(), "--out",
        out.toString()), "nothing to shape", "no activation and no layer");
    assertFalse(Files.exists(out) && out.toFile().list().length > 0, "wrote " + out);
  }

  @Test
  void scalarInputsWithNothingToShapeGetTheRefusalNotATensorFlowRejection() {
    Path out = tmp.resolve("signatures");
    Cli r = Cli.run("rewrite",
        Assets.sharedModel("tfjs_module_with_multiple_signatures").toString(), "--out",
        out.toString());
    assertOneErrorLine(r, "nothing to shape", "no activation and no layer");
    assertFalse(r.err().contains("rejects"), r.err());
    assertFalse(Files.exists(out) && out.toFile().list().length > 0, "wrote " + out);
  }
}
