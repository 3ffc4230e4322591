package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.model.TensorSpec;
import dev.dks.savedmodels.ModelReaders;
import dev.dks.savedmodels.shaping.ShapingMetadataFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.NodeDef;

/**
 * {@code dks verify} on a model whose input batch is fixed at 1 (as about 10 of the corpus's
 * TF.js models have it) reaches a verdict with its JSON, feeding the examples one at a time and
 * saying so ({@code fed_one_at_a_time}); its measurements equal those of the same model with a
 * free batch, which goes the batched way (the second method), and the JSON has the same keys.
 */
class VerifyFixedBatchTest {
  @TempDir Path tmp;

  /** {@code dir}'s model written again with its input's batch dimension fixed at 1. */
  private static Path batchOfOne(Path dir, Path out) throws IOException {
    Model m = ModelReaders.read(dir);
    Signature sig = m.signatures().get(0);
    Map.Entry<String, TensorSpec> in = sig.inputs().entrySet().iterator().next();
    long[] shape = in.getValue().shape().clone();
    shape[0] = 1;
    GraphView g = GraphView.of(m.graph());
    NodeDef ph = g.get(in.getValue().tensor().node());
    g.put(ph.toBuilder().putAttr("shape", AttrValue.newBuilder()
        .setShape(TensorProtos.shapeProto(shape)).build()).build());
    Map<String, TensorSpec> inputs = new LinkedHashMap<>(sig.inputs());
    inputs.put(in.getKey(), new TensorSpec(in.getValue().tensor(), in.getValue().dtype(), shape));
    List<Signature> sigs = new ArrayList<>(m.signatures());
    sigs.set(0, new Signature(sig.key(), sig.methodName(), inputs, sig.outputs()));
    byte[] record = Files.readAllBytes(dir.resolve(ShapingMetadataFiles.RELATIVE_PATH));
    ServingOutput.export(new Model(g.toGraphDef(), m.variables(), sigs), out,
        ShapingMetadataFiles.assetsExtra(record));
    return out;
  }

  private static JsonNode verify(Path model) throws IOException {
    Cli r = Cli.run("verify", model.toString(), "--json", "--pairs", "12", "--draws", "2");
    assertTrue(r.code() == 0 || r.code() == VerifyCommand.CHECK_FAILED, r.out() + r.err());
    JsonNode j = new ObjectMapper().readTree(r.out());
    assertEquals(r.code() == 0, j.get("passed").asBoolean(), j.toString());
    return j;
  }

  @Test
  void aBatchOfOneIsVerifiedOneExampleAtATimeWithTheSameNumbers() throws IOException {
    Path free = tmp.resolve("cnn");
    Cli b = Cli.run("build", "--arch", "plain-cnn", "--depth", "4", "--width", "16", "--shaped",
        "--method", "DKS", "--activation", "softplus", "--input", "8x8x3", "--out",
        free.toString());
    assertEquals(0, b.code(), b.err());
    Path fixed = batchOfOne(free, tmp.resolve("cnn_batch1"));
    assertEquals("[1, 8, 8, 3]", java.util.Arrays.toString(ModelReaders.read(fixed).signatures()
        .get(0).inputs().values().iterator().next().shape()));
    JsonNode batched = verify(free);
    JsonNode single = verify(fixed);
    assertFalse(batched.get("fed_one_at_a_time").asBoolean(), batched.toString());
    assertTrue(batched.get("fed_one_at_a_time_why").isNull());
    assertTrue(single.get("fed_one_at_a_time").asBoolean(), single.toString());
    assertTrue(single.get("fed_one_at_a_time_why").asText().contains("fixed at 1"),
        single.toString());
    List<String> keys = new ArrayList<>();
    List<String> singleKeys = new ArrayList<>();
    batched.fieldNames().forEachRemaining(keys::add);
    single.fieldNames().forEachRemaining(singleKeys::add);
    assertEquals(keys, singleKeys);
    assertEquals(batched.get("passed"), single.get("passed"));
    assertEquals(batched.get("judged_tensor"), single.get("judged_tensor"));
    Iterator<JsonNode> a = batched.get("rows").elements();
    Iterator<JsonNode> s = single.get("rows").elements();
    int rows = 0;
    while (a.hasNext()) {
      JsonNode x = a.next();
      JsonNode y = s.next();
      assertEquals(x.get("tensor"), y.get("tensor"));
      // float32 convolutions of a batch and of one example round differently (about 1e-6)
      double q = x.get("measured_q").asDouble();
      assertEquals(q, y.get("measured_q").asDouble(), 1e-5 * Math.abs(q), x.toString());
      assertEquals(x.get("measured_c").asDouble(), y.get("measured_c").asDouble(), 1e-5,
          x.toString());
      rows++;
    }
    assertFalse(s.hasNext());
    assertTrue(rows >= 12, "rows: " + rows);
  }
}
