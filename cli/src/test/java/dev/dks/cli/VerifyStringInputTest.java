package dev.dks.cli;

import static dev.dks.cli.Cli.assertOneErrorLine;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.model.TensorSpec;
import dev.dks.savedmodels.export.ServingExporter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

/**
 * {@code dks rewrite} then {@code dks verify}, no flags, on ARM's keyword-spotting DS-CNN
 * (../shared/models/frozen_armkws_ds_cnn_s), served from WAV bytes: its input 'wav_data' is a
 * DT_STRING decoded in the graph (DecodeWav -> AudioSpectrogram -> Mfcc -> Reshape), so verify
 * used to refuse it (exit 2: not read by a single Cast). Now the pairs are fed at the features
 * the first convolution reads, and the verdict is measured against predicted c. The measured c
 * after the first TAT leaky ReLU (negative slope about 1e-7, so ReLU's arc-cosine kernel) at
 * input c 0 is checked against the closed form 1/pi (Cho and Saul's degree-1 arc-cosine kernel
 * at orthogonal inputs). Control: a string input no layer reads is still refused with exit 2.
 */
class VerifyStringInputTest {
  @TempDir Path tmp;

  @Test
  void theKeywordSpottingDsCnnIsRewrittenAndVerifiedFromItsMfccFeatures() throws IOException {
    Path model = Assets.sharedModel("frozen_armkws_ds_cnn_s/DS_CNN_S.pb");
    Path out = tmp.resolve("ds_cnn");
    Cli r = Cli.run("rewrite", model.toString(), "--out", out.toString());
    assertEquals(0, r.code(), r.err());
    Cli v = Cli.run("verify", out.toString(), "--json");
    assertTrue(v.code() == 0 || v.code() == VerifyCommand.CHECK_FAILED, v.out() + v.err());
    JsonNode j = new ObjectMapper().readTree(v.out());
    assertEquals("Reshape_1", j.get("fed_at").asText());
    assertTrue(j.get("fed_computed_feature").asBoolean(), j.toString());
    String note = j.get("fed_note").asText();
    assertTrue(note.contains("'wav_data' is DT_STRING") && note.contains("Mfcc")
        && note.contains("MobileNet/conv_1/Conv2D") && note.contains("one channel"), note);
    // one MFCC channel: the first rows are conv_1's output, carrying exactly the fed c
    int depthZeroRows = 0;
    for (JsonNode row : j.get("rows")) {
      if (row.get("depth").asInt() == 0) {
        depthZeroRows++;
        assertEquals("MobileNet/conv_1/Conv2D", row.get("tensor").asText());
        assertEquals(row.get("input_c").asDouble(), row.get("measured_c").asDouble(), 1e-4);
      }
    }
    assertTrue(depthZeroRows > 0, j.toString());
    String judged = j.get("judged_tensor").asText();
    boolean pass = true;
    int judgedRows = 0;
    int firstReluRows = 0;
    for (JsonNode row : j.get("rows")) {
      if (row.get("depth").asInt() == 1 && row.get("input_c").asDouble() == 0.0) {
        firstReluRows++;
        assertEquals(1 / Math.PI, row.get("measured_c").asDouble(), 0.02, row.toString());
      }
      if (row.get("tensor").asText().equals(judged)) {
        double err = Math.abs(row.get("measured_c").asDouble()
            - row.get("predicted_c").asDouble());
        pass &= err <= row.get("c_allowed").asDouble();
        judgedRows++;
      }
    }
    assertEquals(3, judgedRows, j.toString());
    assertTrue(firstReluRows > 0, j.toString());
    // the verdict follows the judged rows' numbers (log q within its allowance as well)
    assertEquals(pass && j.get("passed").asBoolean(), j.get("passed").asBoolean());
    assertEquals(0, v.code(), "expected the rewritten DS-CNN to pass: " + j.get("reason"));
  }

  /**
   * A network whose layers read a constant image while its only input, a string, is decoded and
   * added to the output: the decoded audio is on the path to the output, but no layer reads a
   * float tensor computed from it, so there is nothing to feed pairs at.
   */
  @Test
  void aStringInputThatNoLayerReadsIsStillRefusedWithExitTwo() {
    Model f = ModelBuilder.build(ArchitectureSpec.builder(Architecture.PLAIN_CNN, 2)
        .width(8).input("6x5x3").build()).model();
    String netOut = f.outputNodes().get(0);
    GraphView g = GraphView.of(f.graph());
    g.remove("input");
    g.add(Nodes.constant("input", TensorProtos.ofFloats(new long[] {1, 6, 5, 3},
        new float[90])));
    g.add(Nodes.op("Placeholder", "wav").type("dtype", DataType.DT_STRING).attr("shape",
        AttrValue.newBuilder().setShape(TensorProtos.shapeProto(new long[0])).build()).build());
    g.add(Nodes.op("DecodeWav", "decode").input("wav").build());
    g.add(Nodes.constant("side/axes", TensorProto.newBuilder().setDtype(DataType.DT_INT32)
        .setTensorShape(TensorProtos.shapeProto(new long[] {2})).addIntVal(0).addIntVal(1)
        .build()));
    g.add(Nodes.op("Mean", "side").input("decode").input("side/axes")
        .type("T", DataType.DT_FLOAT).type("Tidx", DataType.DT_INT32).build());
    g.add(Nodes.op("AddV2", "out").input(netOut).input("side").type("T", DataType.DT_FLOAT)
        .build());
    Signature s = f.signatures().get(0);
    TensorSpec o = s.outputs().values().iterator().next();
    Path out = tmp.resolve("string_unread");
    ServingExporter.export(new Model(g.toGraphDef(), f.variables(), List.of(new Signature(
        s.key(), s.methodName(),
        Map.of("wav", new TensorSpec(TensorName.of("wav"), DataType.DT_STRING, new long[0])),
        Map.of("out", new TensorSpec(TensorName.of("out"), DataType.DT_FLOAT, o.shape()))))),
        out);
    assertOneErrorLine(Cli.run("verify", out.toString()), "input 'wav' is DT_STRING",
        "not read by a single Cast", "[decode]", "no Conv2D, DepthwiseConv2dNative or MatMul");
  }
}
