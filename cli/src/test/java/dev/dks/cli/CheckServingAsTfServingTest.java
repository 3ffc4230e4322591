package dev.dks.cli;

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
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorShapeProto;

/**
 * {@code dks check-serving} judges as TF Serving does, on real models of {@code ../shared/models}
 * (skipped with a reason without them, failing under {@code DKS_REQUIRE_SHARED}): an input of
 * unknown rank is served (a warning; a shape the graph accepts, or {@code --input-shape}, is
 * fed) and a model without variables needs no checkpoint. Negative controls: a model whose
 * variables are gone still fails, and so does an unknown-rank input no tried shape fits.
 */
class CheckServingAsTfServingTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;

  @Test
  void aConvertedModelWithAnUnknownRankInputIsServedWithAWarning() throws IOException {
    Path conv = convert("tf2onnx_regression_saved_model");
    Cli r = Cli.run("check-serving", conv.toString());
    assertEquals(0, r.code(), r.out() + r.err());
    assertEquals("", r.err());
    assertTrue(r.out().contains("warning: input 'X' has an unknown rank"), r.out());
    assertEquals("PASS", last(r.out()));

    JsonNode j = JSON.readTree(Cli.run("check-serving", conv.toString(), "--json").out());
    assertTrue(j.get("passed").asBoolean(), j.toString());
    assertEquals(1, j.get("warnings").size(), j.toString());
    assertTrue(j.get("inputs").get(0).get("declared_shape").isNull(), j.toString());
    // X * w + b with scalar w and b (the checkpoint holds 2 floats, 8 bytes): any shape runs,
    // so the first shape tried, [2], is fed and the output has the same shape
    assertEquals("[2]", j.get("inputs").get(0).get("shape").toString());
    assertEquals("[2]", j.get("outputs").get(0).get("shape").toString());

    JsonNode given = JSON.readTree(Cli.run("check-serving", conv.toString(), "--input-shape",
        "X=3x5", "--json").out());
    assertTrue(given.get("passed").asBoolean(), given.toString());
    assertEquals("[3,5]", given.get("inputs").get(0).get("shape").toString());
    assertEquals("[3,5]", given.get("outputs").get(0).get("shape").toString());

    Cli.assertOneErrorLine(Cli.run("check-serving", conv.toString(), "--input-shape", "nope=2"),
        "no input 'nope'", "[X]");
    Cli.assertOneErrorLine(Cli.run("check-serving", conv.toString(), "--input-shape", "X=2xa"),
        "DIMS must be sizes");
  }

  @Test
  void modelsWithoutVariablesPass() throws IOException {
    Path original = Assets.sharedModel("tfexamples_saved_model_v2_mini");
    Cli r = Cli.run("check-serving", original.toString());
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("warning: input 'x' has an unknown rank"), r.out());

    Path conv = convert("tfexamples_saved_model_v2_mini");
    assertFalse(Files.exists(conv.resolve("variables").resolve("variables.index")),
        "the converted model has no variables, so no checkpoint");
    Cli c = Cli.run("check-serving", conv.toString());
    assertEquals(0, c.code(), c.out() + c.err());
    assertFalse(c.out().contains("checkpoint is gone"), c.out());
    assertEquals("PASS", last(c.out()));
  }

  @Test
  void aModelWithVariablesButNoCheckpointStillFails() throws IOException {
    Path conv = convert("tf2onnx_regression_saved_model");
    FileTrees.delete(conv.resolve("variables"));
    Cli r = Cli.run("check-serving", conv.toString());
    assertEquals(1, r.code(), r.out() + r.err());
    assertTrue(r.err().startsWith("dks: check-serving failed: "), r.err());
    assertTrue(r.err().contains("the variables checkpoint is gone"), r.err());
  }

  @Test
  void anUnknownRankNoTriedShapeFitsFailsAndNamesTheOption() throws IOException {
    Path built = tmp.resolve("mlp");
    Cli b = Cli.run("build", "--arch", "mlp", "--depth", "2", "--width", "16", "--input",
        "1x1x8", "--out", built.toString());
    assertEquals(0, b.code(), b.err());
    forgetInputRank(built);

    Cli r = Cli.run("check-serving", built.toString());
    assertEquals(1, r.code(), r.out() + r.err());
    assertTrue(r.err().contains("unknown rank and the graph runs with none of the shapes tried"),
        r.err());
    assertTrue(r.err().contains("--input-shape input=DIMS"), r.err());

    Cli given = Cli.run("check-serving", built.toString(), "--input-shape", "input=3x1x1x8");
    assertEquals(0, given.code(), given.out() + given.err());
    assertTrue(given.out().lines().anyMatch(l -> l.matches("\\s+output\\s+logits\\s+logits:0\\s+"
        + "float\\s+declared \\[-1,10\\]\\s+got \\[3,10\\]")), given.out());

    // a shape that contradicts a declared one is a usage error, as TF Serving refuses it
    Path declared = tmp.resolve("declared");
    assertEquals(0, Cli.run("build", "--arch", "mlp", "--depth", "2", "--width", "16",
        "--input", "1x1x8", "--out", declared.toString()).code());
    Cli.assertOneErrorLine(Cli.run("check-serving", declared.toString(), "--input-shape",
        "input=2x8"), "does not fit its declared shape");
  }

  /** Makes the signature input and its Placeholder of unknown rank. */
  private static void forgetInputRank(Path dir) throws IOException {
    Path pb = dir.resolve("saved_model.pb");
    SavedModel sm = SavedModel.parseFrom(Files.readAllBytes(pb));
    MetaGraphDef.Builder meta = sm.getMetaGraphs(0).toBuilder();
    SignatureDef.Builder sig = meta.getSignatureDefOrThrow("serving_default").toBuilder();
    TensorInfo in = sig.getInputsOrThrow("input").toBuilder()
        .setTensorShape(TensorShapeProto.newBuilder().setUnknownRank(true)).build();
    sig.putInputs("input", in);
    meta.putSignatureDef("serving_default", sig.build());
    GraphDef.Builder g = meta.getGraphDefBuilder();
    for (NodeDef.Builder n : g.getNodeBuilderList()) {
      if (n.getName().equals("input")) {
        n.putAttr("shape", AttrValue.newBuilder()
            .setShape(TensorShapeProto.newBuilder().setUnknownRank(true)).build());
      }
    }
    Files.write(pb, sm.toBuilder().setMetaGraphs(0, meta).build().toByteArray());
  }

  private Path convert(String shared) {
    Path src = Assets.sharedModel(shared);
    Path out = tmp.resolve(shared);
    Cli c = Cli.run("convert", src.toString(), "--out", out.toString());
    assertEquals(0, c.code(), c.out() + c.err());
    return out;
  }

  private static String last(String out) {
    return out.strip().lines().reduce((a, b) -> b).orElseThrow();
  }
}
