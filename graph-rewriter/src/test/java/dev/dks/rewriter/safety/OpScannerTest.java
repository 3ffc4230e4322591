package dev.dks.rewriter.safety;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.OpRegistry;
import dev.dks.rewriter.safety.OpScanner.Finding;
import dev.dks.rewriter.safety.OpScanner.Region;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SaverDef;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;

/**
 * The regions of {@link OpScanner} on hand-written meta graphs of a TF1 saver: the saver's own
 * RestoreV2 (prefix fed from save/Const, the filename tensor) passes, a RestoreV2 reading a path
 * of its own in the restore op is refused, the saver's SaveV2 (never run on load) is reported as
 * unused, and each op of {@link OpPolicy} is a real op of the TensorFlow runtime.
 */
class OpScannerTest {
  private static NodeDef node(String name, String op, String... inputs) {
    return NodeDef.newBuilder().setName(name).setOp(op).addAllInput(List.of(inputs)).build();
  }

  private static MetaGraphDef tf1Saver(boolean hostileRestore) {
    GraphDef.Builder g = GraphDef.newBuilder()
        .addNode(node("x", "Placeholder"))
        .addNode(node("w", "VariableV2"))
        .addNode(node("y", "MatMul", "x", "w"))
        .addNode(node("save/Const", "Const"))
        .addNode(node("save/names", "Const"))
        .addNode(node("save/slices", "Const"))
        .addNode(node("save/SaveV2", "SaveV2", "save/Const", "save/names", "save/slices", "w"))
        .addNode(node("save/control_dependency", "Identity", "save/Const", "^save/SaveV2"))
        .addNode(node("save/prefix", "Identity", "save/Const"))
        .addNode(node("save/RestoreV2", "RestoreV2", "save/prefix", "save/names",
            "save/slices"))
        .addNode(node("save/Assign", "Assign", "w", "save/RestoreV2"));
    List<String> restoreInputs = new ArrayList<>(List.of("^save/Assign"));
    if (hostileRestore) {
      g.addNode(node("evil/path", "Const"))
          .addNode(node("evil/RestoreV2", "RestoreV2", "evil/path", "save/names", "save/slices"))
          .addNode(node("evil/Assign", "Assign", "w", "evil/RestoreV2"));
      restoreInputs.add("^evil/Assign");
    }
    g.addNode(NodeDef.newBuilder().setName("save/restore_all").setOp("NoOp")
        .addAllInput(restoreInputs));
    return MetaGraphDef.newBuilder().setGraphDef(g)
        .putSignatureDef("serving_default", SignatureDef.newBuilder()
            .putOutputs("y", TensorInfo.newBuilder().setName("y:0").build()).build())
        .setSaverDef(SaverDef.newBuilder().setFilenameTensorName("save/Const:0")
            .setSaveTensorName("save/control_dependency:0")
            .setRestoreOpName("save/restore_all"))
        .build();
  }

  private static Map<String, Finding> byNode(List<Finding> fs) {
    return fs.stream().collect(Collectors.toMap(Finding::node, f -> f));
  }

  @Test
  void theSaversOwnRestorePassesAndItsSaveIsUnused() {
    Map<String, Finding> f = byNode(OpScanner.scan(tf1Saver(false)));
    assertEquals(Set.of("save/SaveV2", "save/RestoreV2"), f.keySet());
    assertEquals(Region.RESTORE, f.get("save/RestoreV2").region());
    assertTrue(f.get("save/RestoreV2").saver());
    assertFalse(f.get("save/RestoreV2").refused());
    assertEquals(Region.UNUSED, f.get("save/SaveV2").region());
    assertFalse(f.get("save/SaveV2").refused());
    assertEquals(List.of(), OpScanner.refused(OpScanner.scan(tf1Saver(false)), Set.of()));
  }

  @Test
  void aRestoreWithItsOwnPathIsRefused() {
    List<Finding> fs = OpScanner.scan(tf1Saver(true));
    assertEquals(List.of("evil/RestoreV2 (RestoreV2, restore)"), OpScanner.refused(fs, Set.of()));
    assertEquals(List.of(), OpScanner.refused(fs, Set.of("RestoreV2")));
  }

  @Test
  void controlInputsReachTheServingPath() {
    GraphDef g = GraphDef.newBuilder().addNode(node("p", "Const"))
        .addNode(node("leak", "WriteFile", "p", "p"))
        .addNode(node("id", "Identity", "p", "^leak"))
        .addNode(node("out", "Identity", "id"))
        .addNode(node("orphan", "PrintV2", "p")).build();
    Map<String, Finding> f = byNode(OpScanner.scan(g, List.of("out:0")));
    assertEquals(Region.SERVING, f.get("leak").region());
    assertEquals(Region.UNUSED, f.get("orphan").region());
  }

  @Test
  void everyOpOfThePolicyIsRegisteredOrNamedAsMissing() {
    List<String> missing = OpPolicy.ops().keySet().stream()
        .filter(op -> !OpRegistry.get().contains(op)).toList();
    System.out.println("policy ops not registered in this TensorFlow: " + missing);
    // the core file/checkpoint/print ops must be real
    for (String op : List.of("ReadFile", "WriteFile", "MatchingFiles", "SaveV2", "RestoreV2",
        "MergeV2Checkpoints", "PrintV2", "ImmutableConst", "TFRecordDataset")) {
      assertFalse(missing.contains(op), op);
    }
  }

  @Test
  void theDocsTableListsEveryOpOfThePolicy() throws java.io.IOException {
    String doc = java.nio.file.Files.readString(java.nio.file.Path.of("..", "docs",
        "untrusted-models.md"));
    List<String> absent = OpPolicy.ops().keySet().stream()
        .filter(op -> !doc.contains("`" + op + "`")).toList();
    assertEquals(List.of(), absent, "docs/untrusted-models.md lacks these ops of OpPolicy");
  }
}
