package dev.dks.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.BiFunction;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorShapeProto;
import org.tensorflow.types.TFloat32;

/**
 * Writes hostile SavedModels for the untrusted-model tests (issue 17): y = Identity(x) for x a
 * float32[?, 4] placeholder, plus an op with effects outside the tensors wired in as the test
 * says (a control input of y, an extra output, the init op, or inside a library function called
 * by y's control input). No variables: TensorFlow loads such a folder without a checkpoint.
 */
final class HostileSavedModels {
  private HostileSavedModels() {}

  /** Where the hostile op is wired. */
  enum Place { SERVING_CONTROL, SERVING_OUTPUT, INIT, FUNCTION, NONE }

  /**
   * Writes {@code dir/saved_model.pb}; {@code hostile} builds the op in the graph and returns it
   * (unused, may be null, for {@link Place#NONE}: y = Identity(x) only).
   */
  static Path write(Path dir, Place place, BiFunction<Ops, Graph, GraphOperation> hostile)
      throws IOException {
    GraphDef gd;
    String extraOutput = null;
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Operand<TFloat32> x = tf.withName("x").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, 4)));
      if (place == Place.SERVING_CONTROL) {
        GraphOperation h = hostile.apply(tf, g);
        g.opBuilder("Identity", "y", tf.scope()).addInput(x.asOutput()).addControlInput(h)
            .build();
      } else if (place == Place.SERVING_OUTPUT) {
        GraphOperation h = hostile.apply(tf, g);
        tf.withName("y").identity(x);
        extraOutput = h.name() + ":0";
      } else if (place == Place.INIT) {
        tf.withName("y").identity(x);
        GraphOperation h = hostile.apply(tf, g);
        g.opBuilder("NoOp", "init_all", tf.scope()).addControlInput(h).build();
      } else {
        tf.withName("y").identity(x);
      }
      gd = g.toGraphDef();
    }
    if (place == Place.FUNCTION) {
      gd = withFunctionCall(gd, hostile);
    }
    SignatureDef.Builder sig = SignatureDef.newBuilder()
        .setMethodName("tensorflow/serving/predict")
        .putInputs("x", info("x:0", DataType.DT_FLOAT).toBuilder().setTensorShape(ROW4).build())
        .putOutputs("y", info("y:0", DataType.DT_FLOAT).toBuilder().setTensorShape(ROW4).build());
    if (extraOutput != null) {
      sig.putOutputs("leak", info(extraOutput, DataType.DT_STRING));
    }
    MetaGraphDef.Builder mg = MetaGraphDef.newBuilder().setGraphDef(gd)
        .putSignatureDef("serving_default", sig.build());
    mg.getMetaInfoDefBuilder().addTags("serve");
    if (place == Place.INIT) {
      mg.putSignatureDef("__saved_model_init_op", SignatureDef.newBuilder()
          .putOutputs("__saved_model_init_op", info("init_all", DataType.DT_INVALID)).build());
    }
    Files.createDirectories(dir);
    Files.write(dir.resolve("saved_model.pb"), SavedModel.newBuilder()
        .setSavedModelSchemaVersion(1).addMetaGraphs(mg).build().toByteArray());
    return dir;
  }

  private static final TensorShapeProto ROW4 = TensorShapeProto.newBuilder()
      .addDim(TensorShapeProto.Dim.newBuilder().setSize(-1))
      .addDim(TensorShapeProto.Dim.newBuilder().setSize(4)).build();

  private static TensorInfo info(String name, DataType dt) {
    return TensorInfo.newBuilder().setName(name).setDtype(dt).build();
  }

  /**
   * The graph with a library function {@code leak} holding the hostile op (copied from a scratch
   * graph) and y's control input a StatefulPartitionedCall of it, as TF2 models call functions.
   */
  private static GraphDef withFunctionCall(GraphDef gd,
      BiFunction<Ops, Graph, GraphOperation> hostile) {
    GraphDef scratch;
    String hostileName;
    try (Graph g = new Graph()) {
      hostileName = hostile.apply(Ops.create(g), g).name();
      scratch = g.toGraphDef();
    }
    FunctionDef.Builder f = FunctionDef.newBuilder();
    f.getSignatureBuilder().setName("leak").setIsStateful(true).addControlOutput(hostileName);
    for (NodeDef n : scratch.getNodeList()) {
      NodeDef.Builder b = n.toBuilder().clearInput();
      for (String in : n.getInputList()) {
        b.addInput(in.startsWith("^") ? in : in.contains(":")
            ? in.replace(":", ":output:") : in + ":output:0");
      }
      f.addNodeDef(b);
    }
    f.putControlRet(hostileName, hostileName);
    NodeDef call = NodeDef.newBuilder().setName("call").setOp("StatefulPartitionedCall")
        .addInput("x")
        .putAttr("Tin", AttrValue.newBuilder().setList(AttrValue.ListValue.newBuilder()
            .addType(DataType.DT_FLOAT)).build())
        .putAttr("Tout", AttrValue.newBuilder().setList(AttrValue.ListValue.newBuilder())
            .build())
        .putAttr("f", AttrValue.newBuilder().setFunc(org.tensorflow.proto.NameAttrList
            .newBuilder().setName("leak")).build())
        .putAttr("config", AttrValue.newBuilder().setS(com.google.protobuf.ByteString.EMPTY)
            .build())
        .putAttr("config_proto", AttrValue.newBuilder().setS(com.google.protobuf.ByteString
            .EMPTY).build())
        .putAttr("executor_type", AttrValue.newBuilder().setS(com.google.protobuf.ByteString
            .EMPTY).build())
        .build();
    f.getSignatureBuilder().addInputArg(OpDef.ArgDef.newBuilder().setName("unused")
        .setType(DataType.DT_FLOAT));
    GraphDef.Builder b = gd.toBuilder();
    b.getLibraryBuilder().addFunction(f);
    b.addNode(call);
    for (int i = 0; i < b.getNodeCount(); i++) {
      if (b.getNode(i).getName().equals("y")) {
        b.setNode(i, b.getNode(i).toBuilder().addInput("^call"));
      }
    }
    return b.build();
  }

  /** WriteFile of {@code contents} to {@code target}. */
  static BiFunction<Ops, Graph, GraphOperation> writeFile(Path target, String contents) {
    return (tf, g) -> (GraphOperation) tf.withName("leak_write").io.writeFile(
        tf.constant(target.toString()), tf.constant(contents)).op();
  }

  /** ReadFile of {@code source}. */
  static BiFunction<Ops, Graph, GraphOperation> readFile(Path source) {
    return (tf, g) -> (GraphOperation) tf.withName("leak_read").io.readFile(
        tf.constant(source.toString())).op();
  }

  /** PrintV2 of a string to the file {@code target} (output_stream file://...). */
  static BiFunction<Ops, Graph, GraphOperation> printV2(Path target) {
    return (tf, g) -> g.opBuilder("PrintV2", "leak_print", tf.scope())
        .addInput(tf.constant("printed by the model").asOutput())
        .setAttr("output_stream", "file://" + target).build();
  }

  /** MatchingFiles of {@code pattern}. */
  static BiFunction<Ops, Graph, GraphOperation> matchingFiles(String pattern) {
    return (tf, g) -> (GraphOperation) tf.withName("leak_list").io.matchingFiles(
        tf.constant(pattern)).op();
  }
}
