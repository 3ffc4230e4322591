package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.google.protobuf.ByteString;
import dev.dks.cli.HostileSavedModels.Place;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Const tensors over their bounds (issue 17b), generated here: a float32 [10^6, 10^6] Const from
 * one float_val (4 TB once materialized) as a control input of the serving output, and a float32
 * [1000] Const with 16 bytes of tensor_content, in a SavedModel, a frozen GraphDef and a TF.js
 * model.json. Every command that reads the model ends with one error line naming the node (exit
 * 2, no OutOfMemoryError, no output folder). Control: the same SavedModel without the Const
 * converts.
 */
class UntrustedConstsTest {
  @TempDir
  Path tmp;

  private static final List<List<String>> COMMANDS = List.of(
      List.of("convert", "M", "--out", "O"), List.of("rewrite", "M", "--out", "O"),
      List.of("export", "M", "--out", "O"), List.of("check-serving", "M"),
      List.of("verify", "M"), List.of("train", "M", "--data", "mnist", "--steps", "1", "--out", "O"),
      List.of("inspect", "M"), List.of("scan", "M"));

  private static TensorProto huge() {
    return TensorProto.newBuilder().setDtype(DataType.DT_FLOAT).setTensorShape(
        TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dim.newBuilder().setSize(1_000_000))
            .addDim(TensorShapeProto.Dim.newBuilder().setSize(1_000_000))).addFloatVal(1f).build();
  }

  private static TensorProto shortContent() {
    return TensorProto.newBuilder().setDtype(DataType.DT_FLOAT).setTensorShape(
        TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dim.newBuilder().setSize(1000)))
        .setTensorContent(ByteString.copyFrom(new byte[16])).build();
  }

  /** {@code graph} with Const {@code name} holding {@code t}, a control input of y. */
  private static GraphDef withConst(GraphDef graph, String name, TensorProto t) {
    GraphDef.Builder b = graph.toBuilder().addNode(NodeDef.newBuilder().setName(name)
        .setOp("Const").putAttr("dtype", AttrValue.newBuilder().setType(DataType.DT_FLOAT).build())
        .putAttr("value", AttrValue.newBuilder().setTensor(t).build()));
    for (int i = 0; i < b.getNodeCount(); i++) {
      if (b.getNode(i).getName().equals("y")) {
        b.setNode(i, b.getNode(i).toBuilder().addInput("^" + name));
      }
    }
    return b.build();
  }

  private Path savedModel(String dir, String name, TensorProto t) throws IOException {
    Path m = HostileSavedModels.write(tmp.resolve(dir), Place.NONE, null);
    Path pb = m.resolve("saved_model.pb");
    SavedModel.Builder sm = SavedModel.parseFrom(Files.readAllBytes(pb)).toBuilder();
    if (t != null) {
      sm.getMetaGraphsBuilder(0).setGraphDef(withConst(sm.getMetaGraphs(0).getGraphDef(), name,
          t));
    }
    Files.write(pb, sm.build().toByteArray());
    return m;
  }

  private void refusedBy(List<List<String>> commands, Path model, String... fragments) {
    for (List<String> c : commands) {
      Path out = tmp.resolve("out-" + c.get(0));
      String[] args = c.stream().map(a -> a.equals("M") ? model.toString()
          : a.equals("O") ? out.toString() : a).toArray(String[]::new);
      Cli.assertOneErrorLine(Cli.run(args), fragments);
      assertFalse(Files.exists(out), c.get(0) + " wrote " + out);
    }
  }

  @Test
  void aSavedModelConstOverItsBoundsIsRefusedByEveryCommand() throws IOException {
    refusedBy(COMMANDS, savedModel("huge", "huge", huge()), "node 'huge' (Const",
        "declares 4000000000000 bytes");
    refusedBy(COMMANDS, savedModel("short", "short", shortContent()), "node 'short' (Const",
        "declares 4000 bytes but its tensor_content holds 16");
    Cli ok = Cli.run("convert", savedModel("clean", null, null).toString(), "--out",
        tmp.resolve("out-clean").toString());
    assertEquals(0, ok.code(), ok.err());
  }

  @Test
  void frozenAndTfjsConstsOverTheirBoundsAreRefused() throws IOException {
    Path clean = savedModel("base", null, null);
    GraphDef g = SavedModel.parseFrom(Files.readAllBytes(clean.resolve("saved_model.pb")))
        .getMetaGraphs(0).getGraphDef();
    Path frozen = tmp.resolve("frozen.pb");
    Files.write(frozen, withConst(g, "huge", huge()).toByteArray());
    List<List<String>> readers = List.of(List.of("convert", "M", "--out", "O"),
        List.of("inspect", "M"), List.of("scan", "M"));
    refusedBy(readers, frozen, "node 'huge' (Const", "declares 4000000000000 bytes");

    Path tfjs = Files.createDirectories(tmp.resolve("tfjs"));
    Files.writeString(tfjs.resolve("model.json"), "{\"format\":\"graph-model\","
        + "\"modelTopology\":{\"node\":["
        + "{\"name\":\"x\",\"op\":\"Placeholder\",\"attr\":{\"dtype\":{\"type\":\"DT_FLOAT\"},"
        + "\"shape\":{\"shape\":{\"dim\":[{\"size\":\"4\"}]}}}},"
        + "{\"name\":\"w\",\"op\":\"Const\",\"attr\":{\"dtype\":{\"type\":\"DT_FLOAT\"},"
        + "\"value\":{\"tensor\":{\"dtype\":\"DT_FLOAT\",\"tensorShape\":{\"dim\":[{\"size\":"
        + "\"1000000\"},{\"size\":\"1000000\"}]},\"floatVal\":[1]}}}},"
        + "{\"name\":\"out\",\"op\":\"Identity\",\"input\":[\"x\",\"^w\"],\"attr\":{\"T\":"
        + "{\"type\":\"DT_FLOAT\"}}}],\"versions\":{\"producer\":175}},"
        + "\"weightsManifest\":[]}");
    refusedBy(readers, tfjs.resolve("model.json"), "node 'w' (Const",
        "declares 4000000000000 bytes");
  }
}
