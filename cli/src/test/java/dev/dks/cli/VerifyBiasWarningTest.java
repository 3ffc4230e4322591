package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dks.rewriter.analysis.LayerSite;
import dev.dks.rewriter.analysis.StructureAnalyzer;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.savedmodels.ModelReaders;
import dev.dks.savedmodels.shaping.ShapingMetadataFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.TensorProto;

/**
 * {@code dks verify} says which analysed layers' biases are not zero (the prediction assumes
 * zero biases; dks-init zeroes them): a shaped-built MLP (zero biases) gets an empty {@code
 * nonzero_biases} and no warning; the same model with its second layer's bias set to a constant
 * 0.5 (RMS 0.5 by hand) gets that bias named in the JSON key, on stderr with --json, and in the
 * text report, with what to do.
 */
class VerifyBiasWarningTest {
  @TempDir Path tmp;

  @Test
  void aNonZeroBiasIsNamedAndAZeroBiasedModelIsNot() throws IOException {
    Path built = tmp.resolve("mlp");
    Cli b = Cli.run("build", "--arch", "mlp", "--depth", "4", "--width", "16", "--shaped",
        "--method", "DKS", "--activation", "softplus", "--out", built.toString());
    assertEquals(0, b.code(), b.err());
    Cli zero = Cli.run("verify", built.toString(), "--json", "--pairs", "16", "--draws", "2");
    JsonNode z = new ObjectMapper().readTree(zero.out());
    assertTrue(z.get("nonzero_biases").isArray() && z.get("nonzero_biases").isEmpty(),
        z.toString());
    assertFalse(zero.err().contains("warning"), zero.err());

    // the second analysed layer's bias at 0.5, the shaping record kept
    Model m = ModelReaders.read(built);
    GraphView g = GraphView.of(m.graph());
    List<LayerSite> layers = StructureAnalyzer.analyze(g, List.of(m.signatures().get(0)
        .inputs().values().iterator().next().tensor().node()), m.outputNodes()).layers();
    LayerSite second = layers.get(1);
    assertFalse(second.biasVariable().isEmpty(), second.toString());
    Map<String, TensorProto> vars = new HashMap<>(m.variables());
    TensorProto old = vars.get(second.biasVariable());
    float[] v = new float[TensorProtos.floats(old).length];
    java.util.Arrays.fill(v, 0.5f);
    vars.put(second.biasVariable(), TensorProtos.ofFloats(TensorProtos.shape(old), v));
    Path biased = tmp.resolve("mlp_biased");
    ServingOutput.export(m.with(m.graph(), vars), biased, ShapingMetadataFiles.assetsExtra(
        Files.readAllBytes(built.resolve(ShapingMetadataFiles.RELATIVE_PATH))));

    Cli one = Cli.run("verify", biased.toString(), "--json", "--pairs", "16", "--draws", "2");
    assertTrue(one.code() == 0 || one.code() == VerifyCommand.CHECK_FAILED, one.err());
    JsonNode j = new ObjectMapper().readTree(one.out());
    JsonNode nz = j.get("nonzero_biases");
    assertEquals(1, nz.size(), nz.toString());
    assertEquals(second.biasVariable(), nz.get(0).get("bias").asText());
    assertEquals(second.node(), nz.get(0).get("layer").asText());
    assertEquals(0.5, nz.get(0).get("rms").asDouble(), 1e-7);
    assertTrue(one.err().contains("dks: warning: 1 analysed layer has a non-zero bias ('"
        + second.biasVariable() + "'") && one.err().contains("re-run `dks rewrite`"),
        one.err());
    // the same keys as the zero-bias model's report
    List<String> keys = new java.util.ArrayList<>();
    List<String> zeroKeys = new java.util.ArrayList<>();
    j.fieldNames().forEachRemaining(keys::add);
    z.fieldNames().forEachRemaining(zeroKeys::add);
    assertEquals(zeroKeys, keys);

    Cli text = Cli.run("verify", biased.toString(), "--pairs", "16", "--draws", "2");
    assertTrue(text.out().contains("warning: 1 analysed layer has a non-zero bias ('"
        + second.biasVariable() + "' of layer '" + second.node() + "', RMS 0.500)"),
        text.out());
  }
}
