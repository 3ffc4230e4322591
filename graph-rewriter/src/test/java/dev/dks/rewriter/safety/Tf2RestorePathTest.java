package dev.dks.rewriter.safety;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NameAttrList;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;
import org.tensorflow.proto.SaverDef;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;

/**
 * The TF2 saver (issue 17d): the loader feeds {@code saver_filename} with the model's
 * {@code variables/variables} and runs {@code StatefulPartitionedCall_2}, which calls the restore
 * function with it as first argument, as tf.saved_model.save writes it. A RestoreV2 whose prefix
 * is that argument (directly, through Identity, or through a nested call) is the saver's own; one
 * whose prefix is another argument (fed from a string constant naming a checkpoint elsewhere), or
 * the filename argument of a function some other call feeds with a constant, is refused.
 */
class Tf2RestorePathTest {
  private static NodeDef node(String name, String op, String... inputs) {
    return NodeDef.newBuilder().setName(name).setOp(op).addAllInput(List.of(inputs)).build();
  }

  private static NodeDef call(String name, String fn, String... inputs) {
    return node(name, "StatefulPartitionedCall", inputs).toBuilder()
        .putAttr("f", AttrValue.newBuilder().setFunc(NameAttrList.newBuilder().setName(fn))
            .build()).build();
  }

  /** A function {@code name(args...)} with {@code body}. */
  private static FunctionDef fn(String name, List<String> args, NodeDef... body) {
    FunctionDef.Builder f = FunctionDef.newBuilder();
    f.getSignatureBuilder().setName(name).setIsStateful(true);
    args.forEach(a -> f.getSignatureBuilder().addInputArg(OpDef.ArgDef.newBuilder().setName(a)));
    f.addAllNodeDef(List.of(body));
    return f.build();
  }

  private static NodeDef restore(String name, String prefix) {
    return node(name, "RestoreV2", prefix, "names:output:0", "slices:output:0");
  }

  /** The TF2 layout: y = x, saver_filename, a hostile Const path and the restore call. */
  private static MetaGraphDef model(NodeDef restoreCall, FunctionDef... functions) {
    GraphDef.Builder g = GraphDef.newBuilder()
        .addNode(node("x", "Placeholder"))
        .addNode(node("y", "Identity", "x"))
        .addNode(node("saver_filename", "Placeholder"))
        .addNode(node("elsewhere", "Const")) // "/srv/other-model/variables/variables"
        .addNode(restoreCall);
    g.getLibraryBuilder().addAllFunction(List.of(functions));
    return MetaGraphDef.newBuilder().setGraphDef(g)
        .putSignatureDef("serving_default", SignatureDef.newBuilder()
            .putOutputs("y", TensorInfo.newBuilder().setName("y:0").build()).build())
        .setSaverDef(SaverDef.newBuilder().setFilenameTensorName("saver_filename:0")
            .setSaveTensorName("StatefulPartitionedCall_1:0")
            .setRestoreOpName("StatefulPartitionedCall_2"))
        .build();
  }

  private static List<String> refused(MetaGraphDef mg) {
    return OpScanner.refused(OpScanner.scan(mg), Set.of());
  }

  @Test
  void theSaversOwnRestoreFunctionPasses() {
    MetaGraphDef mg = model(call("StatefulPartitionedCall_2", "traced_restore", "saver_filename",
        "elsewhere"), fn("traced_restore", List.of("file_prefix", "other"),
            node("id", "Identity", "file_prefix"), restore("RestoreV2", "id:output:0"),
            restore("RestoreV2_1", "file_prefix")));
    assertEquals(List.of(), refused(mg));
    assertTrue(OpScanner.scan(mg).stream().allMatch(OpScanner.Finding::saver));
  }

  @Test
  void aRestoreReadingAnotherArgumentIsRefused() {
    MetaGraphDef mg = model(call("StatefulPartitionedCall_2", "traced_restore", "saver_filename",
        "elsewhere"), fn("traced_restore", List.of("file_prefix", "other"),
            restore("RestoreV2", "file_prefix"), restore("RestoreV2_1", "other")));
    assertEquals(List.of("traced_restore/RestoreV2_1 (RestoreV2, restore)"), refused(mg));
  }

  @Test
  void argumentsSwappedAtTheCallAreRefused() {
    MetaGraphDef mg = model(call("StatefulPartitionedCall_2", "traced_restore", "elsewhere",
        "saver_filename"), fn("traced_restore", List.of("file_prefix", "other"),
            restore("RestoreV2", "file_prefix")));
    assertEquals(List.of("traced_restore/RestoreV2 (RestoreV2, restore)"), refused(mg));
  }

  @Test
  void nestedCallsKeepThePinOnlyWhenEveryCallerPassesTheFilename() {
    FunctionDef inner = fn("inner", List.of("prefix"), restore("RestoreV2", "prefix"));
    MetaGraphDef ok = model(call("StatefulPartitionedCall_2", "outer", "saver_filename"),
        fn("outer", List.of("file_prefix"), call("c", "inner", "file_prefix")), inner);
    assertEquals(List.of(), refused(ok));
    // a second call of the same inner function with a constant path unpins its argument
    MetaGraphDef hostile = model(call("StatefulPartitionedCall_2", "outer", "saver_filename"),
        fn("outer", List.of("file_prefix"), call("c", "inner", "file_prefix"),
            node("p", "Const"), call("c2", "inner", "p:output:0")), inner);
    assertEquals(List.of("inner/RestoreV2 (RestoreV2, restore)"), refused(hostile));
  }

  @Test
  void aFunctionReachedOtherwiseThanByACallHasNoPin() {
    // the restore function as the branch of an If: its inputs do not map 1:1 to the arguments
    NodeDef viaIf = node("StatefulPartitionedCall_2", "If", "elsewhere", "saver_filename")
        .toBuilder().putAttr("then_branch", AttrValue.newBuilder().setFunc(NameAttrList
            .newBuilder().setName("traced_restore")).build()).build();
    MetaGraphDef mg = model(viaIf, fn("traced_restore", List.of("file_prefix"),
        restore("RestoreV2", "file_prefix")));
    assertEquals(List.of("traced_restore/RestoreV2 (RestoreV2, restore)"), refused(mg));
  }
}
