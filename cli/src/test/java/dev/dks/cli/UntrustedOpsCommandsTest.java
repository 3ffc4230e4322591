package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dks.cli.HostileSavedModels.Place;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.types.TFloat32;

/**
 * Hostile SavedModels (issue 17), generated here with TF Java: WriteFile as a control input of the
 * serving output, in the init op and inside a library function called on the serving path;
 * ReadFile and MatchingFiles as serving outputs; PrintV2 to a file. Every command that writes or
 * runs a graph ({@code convert}, {@code rewrite}, {@code export}, {@code check-serving}, {@code
 * verify}, {@code train}) ends with its one-line error naming the node and op (exit 2), writes no
 * output folder, and the file the model would write does not appear. Controls: TensorFlow itself
 * runs the fixtures and writes the files (so they are hostile), and {@code --allow-ops} lifts the
 * refusal.
 */
class UntrustedOpsCommandsTest {
  @TempDir
  Path tmp;

  private static final List<List<String>> COMMANDS = List.of(
      List.of("convert", "M", "--out", "O"), List.of("rewrite", "M", "--out", "O"),
      List.of("export", "M", "--out", "O"), List.of("check-serving", "M"),
      List.of("verify", "M"), List.of("train", "M", "--data", "mnist", "--steps", "1", "--out", "O"));

  /** Runs every command on {@code model}; each must refuse naming {@code node} and {@code op}. */
  private void everyCommandRefuses(Path model, String node, String op, Path target)
      throws IOException {
    for (List<String> c : COMMANDS) {
      Path out = tmp.resolve("out-" + c.get(0));
      String[] args = c.stream().map(a -> a.equals("M") ? model.toString()
          : a.equals("O") ? out.toString() : a).toArray(String[]::new);
      Cli r = Cli.run(args);
      Cli.assertOneErrorLine(r, node, op, "--allow-ops");
      assertFalse(Files.exists(out), c.get(0) + " wrote " + out);
      if (target != null) {
        assertFalse(Files.exists(target), c.get(0) + " let the model write " + target);
      }
    }
  }

  /** Runs serving_default of the folder with TensorFlow directly (the fixture's control). */
  private static void runServing(Path dir) {
    try (SavedModelBundle b = SavedModelBundle.load(dir.toString(), "serve");
        TFloat32 x = TFloat32.tensorOf(Shape.of(1, 4));
        var res = b.function("serving_default").call(java.util.Map.of("x", x))) {
      assertTrue(res.size() >= 1);
    }
  }

  private JsonNode scanJson(Path model, int code) throws IOException {
    Cli r = Cli.run("scan", model.toString(), "--json");
    assertEquals(code, r.code(), r.out() + r.err());
    return new ObjectMapper().readTree(r.out());
  }

  @Test
  void writeFileOnTheServingPathIsRefusedAndNotRun() throws IOException {
    Path target = tmp.resolve("pwned.txt");
    Path model = HostileSavedModels.write(tmp.resolve("m"), Place.SERVING_CONTROL,
        HostileSavedModels.writeFile(target, "pwned"));
    // control: TensorFlow runs the write
    Path controlTarget = tmp.resolve("control.txt");
    runServing(HostileSavedModels.write(tmp.resolve("control"), Place.SERVING_CONTROL,
        HostileSavedModels.writeFile(controlTarget, "pwned")));
    assertEquals("pwned", Files.readString(controlTarget));

    everyCommandRefuses(model, "leak_write", "WriteFile", target);
    Cli inspect = Cli.run("inspect", model.toString());
    assertEquals(0, inspect.code(), inspect.err());
    assertTrue(inspect.out().contains("unsafe op: leak_write (WriteFile, serving)"),
        inspect.out());
    JsonNode ij = Cli.json("inspect", model.toString());
    assertEquals(1, ij.get("unsafe_ops").size(), ij.toString());
    JsonNode u = ij.get("unsafe_ops").get(0);
    assertEquals("leak_write", u.get("node").asText());
    assertEquals("WriteFile", u.get("op").asText());
    assertEquals("serving", u.get("where").asText());
    assertTrue(u.get("refused").asBoolean());
    assertTrue(ij.has("warnings") && ij.has("counts"), "the older keys stay");
    JsonNode scan = scanJson(model, ScanCommand.FOUND);
    assertEquals(1, scan.get("refused").asInt());
    assertEquals("serving", scan.get("findings").get(0).get("region").asText());
    assertEquals("leak_write", scan.get("findings").get(0).get("node").asText());
    assertFalse(Files.exists(target));

    // --allow-ops lifts the refusal (convert then writes its output)
    Path out = tmp.resolve("allowed");
    Cli r = Cli.run("convert", model.toString(), "--out", out.toString(), "--allow-ops",
        "WriteFile");
    assertEquals(0, r.code(), r.err());
    assertTrue(Files.exists(out.resolve("saved_model.pb")));
  }

  @Test
  void writeFileInTheInitOpIsRefusedBeforeTensorFlowLoadsTheModel() throws IOException {
    Path target = tmp.resolve("pwned-init.txt");
    Path model = HostileSavedModels.write(tmp.resolve("m"), Place.INIT,
        HostileSavedModels.writeFile(target, "pwned"));
    Path controlTarget = tmp.resolve("control-init.txt");
    Path control = HostileSavedModels.write(tmp.resolve("control"), Place.INIT,
        HostileSavedModels.writeFile(controlTarget, "pwned"));
    try (SavedModelBundle b = SavedModelBundle.load(control.toString(), "serve")) {
      assertEquals("pwned", Files.readString(controlTarget), "the loader runs the init op");
    }
    everyCommandRefuses(model, "leak_write", "WriteFile", target);
    Cli.assertOneErrorLine(Cli.run("inspect", model.toString()), "leak_write (WriteFile, init)");
    assertFalse(Files.exists(target));
    // the refusal names --allow-ops, and inspect takes it
    Cli allowed = Cli.run("inspect", "--allow-ops", "WriteFile", model.toString());
    assertEquals(0, allowed.code(), allowed.err());
    assertEquals("init", scanJson(model, ScanCommand.FOUND).get("findings").get(0)
        .get("region").asText());
  }

  @Test
  void writeFileInsideACalledFunctionIsRefused() throws IOException {
    Path target = tmp.resolve("pwned-fn.txt");
    Path model = HostileSavedModels.write(tmp.resolve("m"), Place.FUNCTION,
        HostileSavedModels.writeFile(target, "pwned"));
    Path controlTarget = tmp.resolve("control-fn.txt");
    runServing(HostileSavedModels.write(tmp.resolve("control"), Place.FUNCTION,
        HostileSavedModels.writeFile(controlTarget, "pwned")));
    assertEquals("pwned", Files.readString(controlTarget), "TensorFlow runs the function");
    everyCommandRefuses(model, "leak/leak_write", "WriteFile", target);
    JsonNode f = scanJson(model, ScanCommand.FOUND).get("findings").get(0);
    assertEquals("leak", f.get("function").asText());
    assertEquals("serving", f.get("region").asText());
  }

  @Test
  void readFileMatchingFilesAndPrintV2AreRefused() throws IOException {
    Path secret = Files.writeString(tmp.resolve("secret.txt"), "the service's own secret");
    Path printed = tmp.resolve("printed.txt");
    everyCommandRefuses(HostileSavedModels.write(tmp.resolve("read"), Place.SERVING_OUTPUT,
        HostileSavedModels.readFile(secret)), "leak_read", "ReadFile", null);
    everyCommandRefuses(HostileSavedModels.write(tmp.resolve("list"), Place.SERVING_OUTPUT,
        HostileSavedModels.matchingFiles(tmp + "/*")), "leak_list", "MatchingFiles", null);
    everyCommandRefuses(HostileSavedModels.write(tmp.resolve("print"), Place.SERVING_CONTROL,
        HostileSavedModels.printV2(printed)), "leak_print", "PrintV2", printed);
    // no file anywhere under tmp holds the secret but the secret itself
    List<Path> holding = new ArrayList<>();
    try (Stream<Path> s = Files.walk(tmp)) {
      for (Path p : s.filter(Files::isRegularFile).toList()) {
        if (!p.equals(secret) && !p.getFileName().toString().equals("saved_model.pb")
            && Files.readString(p, java.nio.charset.StandardCharsets.ISO_8859_1)
                .contains("the service's own secret")) {
          holding.add(p);
        }
      }
    }
    assertEquals(List.of(), holding);
  }

  /**
   * A TF2 saver whose restore function reads a second argument, fed from a string constant that
   * names a checkpoint elsewhere, beside the loader's filename (issue 17d): every command refuses
   * it; the same model restoring from the filename argument scans clean.
   */
  @Test
  void aTf2RestoreReadingAPathOfItsOwnIsRefused() throws IOException {
    Path elsewhere = tmp.resolve("other-model/variables/variables");
    Path hostile = tf2Restore(tmp.resolve("tf2-hostile"), elsewhere, true);
    everyCommandRefuses(hostile, "traced_restore/RestoreV2_1 (RestoreV2, restore)",
        "RestoreV2", null);
    Cli.assertOneErrorLine(Cli.run("inspect", hostile.toString()), "RestoreV2_1");
    JsonNode f = scanJson(hostile, ScanCommand.FOUND).get("findings");
    assertEquals(2, f.size());
    Path clean = tf2Restore(tmp.resolve("tf2-clean"), elsewhere, false);
    assertEquals(0, scanJson(clean, 0).get("refused").asInt());
  }

  /** y = Identity(x) with a TF2-style saver; {@code hostile}: RestoreV2_1 reads {@code path}. */
  private static Path tf2Restore(Path dir, Path path, boolean hostile) throws IOException {
    HostileSavedModels.write(dir, Place.NONE, null);
    Path pb = dir.resolve("saved_model.pb");
    org.tensorflow.proto.SavedModel.Builder sm = org.tensorflow.proto.SavedModel.parseFrom(
        Files.readAllBytes(pb)).toBuilder();
    var mg = sm.getMetaGraphsBuilder(0);
    var g = mg.getGraphDefBuilder();
    g.addNode(org.tensorflow.proto.NodeDef.newBuilder().setName("saver_filename")
        .setOp("Placeholder").putAttr("dtype", dtype(org.tensorflow.proto.DataType.DT_STRING)));
    g.addNode(org.tensorflow.proto.NodeDef.newBuilder().setName("elsewhere").setOp("Const")
        .putAttr("dtype", dtype(org.tensorflow.proto.DataType.DT_STRING))
        .putAttr("value", org.tensorflow.proto.AttrValue.newBuilder().setTensor(
            org.tensorflow.proto.TensorProto.newBuilder()
                .setDtype(org.tensorflow.proto.DataType.DT_STRING)
                .addStringVal(com.google.protobuf.ByteString.copyFromUtf8(path.toString())))
            .build()));
    g.addNode(org.tensorflow.proto.NodeDef.newBuilder().setName("StatefulPartitionedCall_2")
        .setOp("StatefulPartitionedCall").addInput("saver_filename").addInput("elsewhere")
        .putAttr("f", org.tensorflow.proto.AttrValue.newBuilder().setFunc(
            org.tensorflow.proto.NameAttrList.newBuilder().setName("traced_restore")).build()));
    org.tensorflow.proto.FunctionDef.Builder f = org.tensorflow.proto.FunctionDef.newBuilder();
    f.getSignatureBuilder().setName("traced_restore").setIsStateful(true)
        .addInputArg(org.tensorflow.proto.OpDef.ArgDef.newBuilder().setName("file_prefix")
            .setType(org.tensorflow.proto.DataType.DT_STRING))
        .addInputArg(org.tensorflow.proto.OpDef.ArgDef.newBuilder().setName("other")
            .setType(org.tensorflow.proto.DataType.DT_STRING));
    f.addNodeDef(org.tensorflow.proto.NodeDef.newBuilder().setName("RestoreV2").setOp("RestoreV2")
        .addInput("file_prefix"));
    f.addNodeDef(org.tensorflow.proto.NodeDef.newBuilder().setName("RestoreV2_1")
        .setOp("RestoreV2").addInput(hostile ? "other" : "file_prefix"));
    g.getLibraryBuilder().addFunction(f);
    mg.setSaverDef(org.tensorflow.proto.SaverDef.newBuilder()
        .setFilenameTensorName("saver_filename:0").setRestoreOpName("StatefulPartitionedCall_2"));
    Files.write(pb, sm.build().toByteArray());
    return dir;
  }

  private static org.tensorflow.proto.AttrValue dtype(org.tensorflow.proto.DataType t) {
    return org.tensorflow.proto.AttrValue.newBuilder().setType(t).build();
  }

  /**
   * inspect --json's unsafe_ops on a real TF2 model: exactly its checkpoint ops, counted here from
   * saved_model.pb's function library; the RestoreV2 nodes are the saver's (restore, not refused),
   * the rest unused; a frozen graph without such ops has an empty list.
   */
  @Test
  void inspectJsonListsTheSaversOpsOfARealTf2Model() throws IOException {
    Path dir = Assets.sharedModel("tfserving_half_plus_two_tf2_cpu");
    var sm = org.tensorflow.proto.SavedModel.parseFrom(Files.readAllBytes(
        dir.resolve("saved_model.pb")));
    int restores = 0;
    int others = 0;
    for (var f : sm.getMetaGraphs(0).getGraphDef().getLibrary().getFunctionList()) {
      for (var n : f.getNodeDefList()) {
        if (n.getOp().equals("RestoreV2")) {
          restores++;
        } else if (List.of("SaveV2", "MergeV2Checkpoints").contains(n.getOp())) {
          others++;
        }
      }
    }
    assertTrue(restores > 0 && others > 0, "the fixture has a TF2 saver");
    JsonNode u = Cli.json("inspect", dir.toString()).get("unsafe_ops");
    assertEquals(restores + others, u.size(), u.toString());
    int saver = 0;
    for (JsonNode f : u) {
      assertFalse(f.get("refused").asBoolean(), f.toString());
      if (f.get("op").asText().equals("RestoreV2")) {
        assertEquals("restore", f.get("where").asText());
        assertTrue(f.get("saver_restore").asBoolean());
        saver++;
      } else {
        assertEquals("unused", f.get("where").asText(), f.toString());
      }
    }
    assertEquals(restores, saver);
    JsonNode frozen = Cli.json("inspect", Assets.sharedModel("frozen_mlnet_cifar_model/frozen_model.pb")
        .toString()).get("unsafe_ops");
    assertEquals(0, frozen.size(), frozen.toString());
  }

  @Test
  void theSharedSavedModelsScanCleanOrWithTheSaversRestoreOnly() throws IOException {
    Path root = Assets.sharedModel("tfserving_half_plus_two_cpu").getParent();
    List<String> checked = new ArrayList<>();
    try (Stream<Path> s = Files.walk(root, 4)) {
      for (Path pb : s.filter(p -> p.getFileName().toString().equals("saved_model.pb"))
          .toList()) {
        Cli r = Cli.run("scan", pb.getParent().toString(), "--json");
        JsonNode j = new ObjectMapper().readTree(r.out().isEmpty() ? "{}" : r.out());
        if (r.code() == 2) {
          continue; // not readable as a SavedModel: other tests cover it
        }
        assertEquals(0, r.code(), pb + ": " + r.out());
        for (JsonNode f : j.get("findings")) {
          assertTrue(!f.get("refused").asBoolean(), pb + ": " + f);
        }
        checked.add(root.relativize(pb.getParent()).toString());
      }
    }
    System.out.println("scanned clean: " + checked);
    assertTrue(checked.size() >= 10, checked.toString());
  }
}
