package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.dks.cli.HostileSavedModels.Place;
import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.BuiltModel;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.kernel.KernelCheck;
import dev.dks.rewriter.kernel.KernelReport;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.model.TensorSpec;
import dev.dks.rewriter.safety.UnsafeOpsException;
import dev.dks.savedmodels.ModelReaders;
import dev.dks.savedmodels.SavedModelReader;
import dev.dks.savedmodels.export.ServingCheck;
import dev.dks.savedmodels.export.ServingExporter;
import dev.dks.savedmodels.export.TrainingExporter;
import dev.dks.solver.solve.Method;
import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.graph.TrainingSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.types.TFloat32;

/**
 * The op policy holds for Java API users, not only for the CLI (issue 17): every public entry
 * point that runs or writes a graph ({@link ServingCheck}, {@link KernelCheck}, {@link
 * TrainingGraph}, {@link ModelSession}, {@link ServingExporter}, {@link TrainingExporter}, and the
 * SavedModel readers, whose loading runs the init op and whose variable fetches run a variable's
 * control inputs) refuses a generated model with a {@code WriteFile} with {@link
 * UnsafeOpsException} naming the node, writes no output and does not let the model write its
 * file. Controls, per entry point: the same model without the op runs (or is written), and with
 * the explicit {@code allowedOps} argument the entry point does run the hostile model and the file
 * appears, so the refusal, not the fixture, is what kept it away.
 */
class UntrustedJavaApiTest {
  @TempDir static Path tmp;
  private static BuiltModel built;

  @BeforeAll
  static void buildMlp() {
    built = ModelBuilder.build(ArchitectureSpec.builder(Architecture.MLP, 3).width(32)
        .activation("tanh").shaped(Method.DKS).input("1x1x16").classes(4).seed(5).build());
  }

  private static final Set<String> WRITE_FILE = Set.of("WriteFile");

  /** The refusal is typed, names the node and op, and the model's file does not exist. */
  private static void refused(Executable call, Path target, String node) {
    UnsafeOpsException e = assertThrows(UnsafeOpsException.class, call);
    assertTrue(e.getMessage().contains(node) && e.getMessage().contains("WriteFile"),
        e.getMessage());
    assertEquals(List.of("WriteFile"), e.ops());
    assertFalse(Files.exists(target), "the model wrote " + target);
  }

  /**
   * {@code m} with a {@code WriteFile} of "pwned" to {@code target} wired as a control input of
   * every node that reads the model's input: whatever runs the network runs the write first.
   */
  static Model withWriteFile(Model m, Path target) {
    String input = m.signatures().get(0).inputs().values().iterator().next().tensor().node();
    GraphDef.Builder g = m.graph().toBuilder();
    g.addNode(stringConst("leak_path", target.toString()));
    g.addNode(stringConst("leak_contents", "pwned"));
    g.addNode(NodeDef.newBuilder().setName("leak_write").setOp("WriteFile")
        .addInput("leak_path").addInput("leak_contents"));
    int wired = 0;
    for (int i = 0; i < g.getNodeCount(); i++) {
      NodeDef n = g.getNode(i);
      if (n.getInputList().stream().anyMatch(in -> in.equals(input) || in.startsWith(input + ":"))) {
        g.setNode(i, n.toBuilder().addInput("^leak_write"));
        wired++;
      }
    }
    assertTrue(wired > 0, "no node reads " + input);
    return m.with(g.build(), m.variables());
  }

  private static NodeDef stringConst(String name, String value) {
    return NodeDef.newBuilder().setName(name).setOp("Const")
        .putAttr("dtype", AttrValue.newBuilder().setType(DataType.DT_STRING).build())
        .putAttr("value", AttrValue.newBuilder().setTensor(TensorProto.newBuilder()
            .setDtype(DataType.DT_STRING).addStringVal(ByteString.copyFromUtf8(value))).build())
        .build();
  }

  /** One input batch of two examples for the MLP. */
  private static Map<String, TensorProto> feed(Model m) {
    TensorSpec in = m.signatures().get(0).inputs().values().iterator().next();
    long[] shape = in.shape().clone();
    shape[0] = 2;
    int n = 1;
    for (long d : shape) {
      n *= (int) d;
    }
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) Math.sin(i);
    }
    return Map.of(in.tensor().node() + ":0", TensorProtos.ofFloats(shape, v));
  }

  @Test
  void modelSessionRefusesAndRunsOnlyWhenAllowed() {
    Path target = tmp.resolve("session.txt");
    Model hostile = withWriteFile(built.model(), target);
    String out = hostile.outputNodes().get(0) + ":0";
    refused(() -> new ModelSession(hostile).close(), target, "leak_write");
    try (ModelSession s = new ModelSession(built.model())) { // negative control: no op, no refusal
      assertEquals(1, s.run(feed(built.model()), List.of(out)).size());
    }
    assertFalse(Files.exists(target));
    try (ModelSession s = new ModelSession(hostile, WRITE_FILE)) {
      s.run(feed(hostile), List.of(out));
    }
    assertTrue(Files.exists(target), "allowed: TensorFlow ran the write");
  }

  @Test
  void kernelCheckRefusesAndRunsOnlyWhenAllowed() throws IOException {
    Path target = tmp.resolve("kernel.txt");
    Model hostile = withWriteFile(built.model(), target);
    KernelCheck.Options o = KernelCheck.Options.defaults().withDraws(1);
    refused(() -> KernelCheck.run(hostile, built.shaping(), o), target, "leak_write");
    refused(() -> KernelCheck.run(hostile, built.shaping(), o, 1L << 20), target, "leak_write");
    KernelReport clean = KernelCheck.run(built.model(), built.shaping(), o);
    assertFalse(clean.rows().isEmpty());
    assertFalse(Files.exists(target));
    KernelCheck.run(hostile, built.shaping(), o, WRITE_FILE);
    assertEquals("pwned", Files.readString(target), "allowed: the check ran the write");
  }

  @Test
  void trainerRefusesAndRunsOnlyWhenAllowed() {
    Path target = tmp.resolve("train.txt");
    Model hostile = withWriteFile(built.model(), target);
    TrainingSpec spec = TrainingSpec.defaults();
    refused(() -> TrainingGraph.build(hostile, spec).close(), target, "leak_write");
    refused(() -> TrainingGraph.build(hostile, spec, null, null).close(), target, "leak_write");
    TensorProto x = feed(built.model()).values().iterator().next();
    float[] y = new float[2 * 4];
    y[0] = 1;
    y[5] = 1;
    try (TrainingGraph tg = TrainingGraph.build(built.model(), spec)) {
      assertTrue(Double.isFinite(tg.evaluate(TensorProtos.floats(x), TensorProtos.shape(x),
          y)[0]));
    }
    assertFalse(Files.exists(target));
    try (TrainingGraph tg = TrainingGraph.build(hostile, spec, null, null, WRITE_FILE)) {
      tg.evaluate(TensorProtos.floats(x), TensorProtos.shape(x), y);
    }
    assertTrue(Files.exists(target), "allowed: training ran the write");
  }

  /**
   * The exporters write nothing for the hostile model; allowed, the serving export is written and
   * ServingCheck then refuses that folder in turn, and runs its write only when allowed.
   */
  @Test
  void exportersAndServingCheckRefuseAndRunOnlyWhenAllowed() throws IOException {
    Path target = tmp.resolve("export.txt");
    Model hostile = withWriteFile(built.model(), target);
    Path serving = tmp.resolve("serving");
    Path training = tmp.resolve("training");
    refused(() -> ServingExporter.export(hostile, serving), target, "leak_write");
    refused(() -> TrainingExporter.export(hostile, training), target, "leak_write");
    assertFalse(Files.exists(serving));
    assertFalse(Files.exists(training));

    Path clean = tmp.resolve("clean");
    ServingExporter.export(built.model(), clean);
    TrainingExporter.export(built.model(), tmp.resolve("clean-training"));
    assertTrue(ServingCheck.check(clean).passed());
    assertFalse(Files.exists(target));

    TrainingExporter.export(hostile, training, Map.of(), WRITE_FILE);
    assertTrue(Files.isRegularFile(training.resolve("saved_model.pb")));
    ServingExporter.export(hostile, serving, Map.of(), WRITE_FILE);
    assertTrue(Files.isRegularFile(serving.resolve("saved_model.pb")));
    assertFalse(Files.exists(target), "writing a graph runs nothing");
    refused(() -> ServingCheck.check(serving), target, "leak_write");
    refused(() -> ServingCheck.check(serving, Map.of()), target, "leak_write");
    ServingCheck.Result r = ServingCheck.check(serving, Map.of(), WRITE_FILE);
    assertTrue(r.passed(), r.reason());
    assertEquals("pwned", Files.readString(target), "allowed: serving ran the write");
  }

  /** ServingCheck on the generated SavedModels of the CLI tests: serving path and init op. */
  @Test
  void servingCheckRefusesTheHostileSavedModels() throws IOException {
    for (Place p : List.of(Place.SERVING_CONTROL, Place.INIT, Place.FUNCTION)) {
      Path target = tmp.resolve("check-" + p + ".txt");
      Path dir = HostileSavedModels.write(tmp.resolve("check-" + p), p,
          HostileSavedModels.writeFile(target, "pwned"));
      refused(() -> ServingCheck.check(dir), target, "leak_write");
    }
    Path none = HostileSavedModels.write(tmp.resolve("check-none"), Place.NONE, null);
    assertTrue(ServingCheck.check(none).passed());
  }

  /**
   * Reading a SavedModel runs its init op (TensorFlow's loader) and fetches its variables: both
   * are refused for a WriteFile there, and run when allowed. A WriteFile only on the serving path
   * is not run by the reader, so it reads (the exporters and runners refuse it).
   */
  @Test
  void readersRefuseWhatLoadingWouldRun() throws IOException {
    Path target = tmp.resolve("init.txt");
    Path init = HostileSavedModels.write(tmp.resolve("read-init"), Place.INIT,
        HostileSavedModels.writeFile(target, "pwned"));
    refused(() -> ModelReaders.read(init), target, "leak_write");
    refused(() -> SavedModelReader.read(init), target, "leak_write");
    refused(() -> ModelReaders.readDetailed(init), target, "leak_write");
    SavedModelReader.readDetailed(init, WRITE_FILE);
    assertEquals("pwned", Files.readString(target), "allowed: the loader ran the init op");

    Path varTarget = tmp.resolve("variable.txt");
    Path variable = variableWithControlInput(tmp.resolve("read-variable"), varTarget);
    refused(() -> ModelReaders.read(variable), varTarget, "leak_write");
    try {
      ModelReaders.readDetailed(variable, WRITE_FILE);
    } catch (RuntimeException expected) {
      // the variable has no checkpoint; reading its value fails after the write ran
    }
    assertEquals("pwned", Files.readString(varTarget), "allowed: fetching the variable ran it");

    Path servingTarget = tmp.resolve("serving-read.txt");
    Path serving = HostileSavedModels.write(tmp.resolve("read-serving"), Place.SERVING_CONTROL,
        HostileSavedModels.writeFile(servingTarget, "pwned"));
    Model m = ModelReaders.read(serving);
    assertFalse(Files.exists(servingTarget));
    refused(() -> ServingExporter.export(m, tmp.resolve("read-serving-out")), servingTarget,
        "leak_write");
    assertFalse(Files.exists(tmp.resolve("read-serving-out")));
  }

  /**
   * y = x * w for a float32[?, 4] input and a VariableV2 w[4] whose control input is a WriteFile
   * of {@code target}; no checkpoint (the variable has no value).
   */
  private static Path variableWithControlInput(Path dir, Path target) throws IOException {
    Path base = HostileSavedModels.write(dir, Place.NONE, null);
    Path pb = base.resolve("saved_model.pb");
    SavedModel.Builder sm = SavedModel.parseFrom(Files.readAllBytes(pb)).toBuilder();
    GraphDef gd;
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 4)));
      var write = HostileSavedModels.writeFile(target, "pwned").apply(tf, g);
      var w = g.opBuilder("VariableV2", "w", tf.scope()).setAttr("shape", Shape.of(4))
          .setAttr("dtype", org.tensorflow.proto.DataType.DT_FLOAT).addControlInput(write)
          .build();
      g.opBuilder("Mul", "xw", tf.scope()).addInput(x.asOutput()).addInput(w.output(0)).build();
      tf.withName("y").identity(g.<TFloat32>operation("xw").output(0));
      gd = g.toGraphDef();
    }
    MetaGraphDef.Builder mg = sm.getMetaGraphsBuilder(0);
    mg.setGraphDef(gd);
    Files.write(pb, sm.build().toByteArray());
    return base;
  }
}
