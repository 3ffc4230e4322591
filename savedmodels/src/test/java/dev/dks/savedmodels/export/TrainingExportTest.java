package dev.dks.savedmodels.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorSpec;
import dev.dks.savedmodels.TensorValues;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.StdArrays;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * Training resumes from an exported folder in a new bundle exactly where it stopped: 3 SGD steps,
 * export, reload, 3 more steps give bit-identical weights and step counter to 6 uninterrupted
 * steps. The reference values come from a separate, uninterrupted TensorFlow session, never from
 * the exporter.
 */
class TrainingExportTest {
  private static final float LEARNING_RATE = 0.1f;
  private static final int BATCH = 4;

  @TempDir
  Path tmp;

  /**
   * The hand-built training graph: x [?,3], y [?,1], w float [3,1], step int64 []; pred = x w;
   * loss = mean((x w - y)^2); grad from Graph.addGradients with [w] only; apply_w =
   * ApplyGradientDescent(w); step_inc = AssignAdd(step, 1).
   */
  private static final class TrainGraph implements AutoCloseable {
    final Graph g = new Graph();
    final Session s;
    final Placeholder<TFloat32> x;
    final Placeholder<TFloat32> y;
    final Variable<TFloat32> w;
    final Variable<TInt64> step;

    TrainGraph() {
      Ops tf = Ops.create(g);
      x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 3)));
      y = tf.withName("y").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 1)));
      w = tf.withName("w").variable(Shape.of(3, 1), TFloat32.class);
      step = tf.withName("step").variable(Shape.scalar(), TInt64.class);
      tf.withName("w_init").assign(w, tf.constant(new float[][] {{0.3f}, {-0.2f}, {0.1f}}));
      tf.withName("step_init").assign(step, tf.constant(0L));
      Operand<TFloat32> pred = tf.withName("pred").linalg.matMul(x, w);
      Operand<TFloat32> loss = tf.withName("loss").math.mean(
          tf.math.square(tf.math.sub(pred, y)), tf.constant(new int[] {0, 1}));
      Output<?>[] grads = g.addGradients(loss.asOutput(), new Output<?>[] {w.asOutput()});
      @SuppressWarnings("unchecked")
      Operand<TFloat32> grad = (Operand<TFloat32>) grads[0];
      tf.withName("apply_w").train.applyGradientDescent(w, tf.constant(LEARNING_RATE), grad);
      tf.withName("step_inc").assignAdd(step, tf.constant(1L));
      s = new Session(g);
      s.runner().addTarget("w_init").addTarget("step_init").run().close();
    }

    Model model() {
      Map<String, TensorProto> values = new LinkedHashMap<>();
      for (String v : List.of("w", "step")) {
        try (Result r = s.runner().fetch(v).run()) {
          values.put(v, TensorValues.toProto(r.get(0)));
        }
      }
      return new Model(g.toGraphDef(), values, signatures());
    }

    @Override
    public void close() {
      s.close();
      g.close();
    }
  }

  private static List<Signature> signatures() {
    TensorSpec x = new TensorSpec(TensorName.of("x", 0), DataType.DT_FLOAT, new long[] {-1, 3});
    TensorSpec y = new TensorSpec(TensorName.of("y", 0), DataType.DT_FLOAT, new long[] {-1, 1});
    TensorSpec pred = new TensorSpec(TensorName.of("pred", 0), DataType.DT_FLOAT,
        new long[] {-1, 1});
    TensorSpec loss = new TensorSpec(TensorName.of("loss", 0), DataType.DT_FLOAT, new long[0]);
    return List.of(
        new Signature(Signature.SERVING_DEFAULT, Signature.PREDICT_METHOD, Map.of("x", x),
            Map.of("pred", pred)),
        new Signature("train", Signature.PREDICT_METHOD, Map.of("x", x, "y", y),
            Map.of("loss", loss)));
  }

  /** Batch k of a fixed regression problem y = 0.5 x0 - x1 + 2 x2 + noise. */
  private static float[][][] batch(int k) {
    float[][] x = new float[BATCH][3];
    float[][] y = new float[BATCH][1];
    for (int i = 0; i < BATCH; i++) {
      for (int j = 0; j < 3; j++) {
        x[i][j] = (float) Math.sin(1 + 12 * k + 3 * i + j);
      }
      y[i][0] = (float) (0.5 * x[i][0] - x[i][1] + 2 * x[i][2] + 0.1 * Math.cos(k + i));
    }
    return new float[][][] {x, y};
  }

  /** One SGD step on batch k in {@code s}: apply_w and step_inc in one run. */
  private static void step(Session s, int k) {
    float[][][] b = batch(k);
    try (TFloat32 x = TFloat32.tensorOf(StdArrays.ndCopyOf(b[0]));
        TFloat32 y = TFloat32.tensorOf(StdArrays.ndCopyOf(b[1]))) {
      s.runner().feed("x", x).feed("y", y).addTarget("apply_w").addTarget("step_inc").run()
          .close();
    }
  }

  private static int[] wBits(Session s) {
    try (Result r = s.runner().fetch("w").run()) {
      TFloat32 w = (TFloat32) r.get(0);
      int[] bits = new int[3];
      for (int i = 0; i < 3; i++) {
        bits[i] = Float.floatToRawIntBits(w.getFloat(i, 0));
      }
      return bits;
    }
  }

  private static long stepValue(Session s) {
    try (Result r = s.runner().fetch("step").run()) {
      return ((TInt64) r.get(0)).getLong();
    }
  }

  private static MetaGraphDef metaGraph(Path dir, List<String> tags) throws IOException {
    SavedModel sm = SavedModel.parseFrom(Files.readAllBytes(dir.resolve("saved_model.pb")));
    return sm.getMetaGraphsList().stream()
        .filter(m -> new HashSet<>(m.getMetaInfoDef().getTagsList()).equals(Set.copyOf(tags)))
        .findFirst().orElseThrow(() -> new AssertionError("no meta graph tagged " + tags));
  }

  private static Set<String> ops(GraphDef g) {
    return g.getNodeList().stream().map(NodeDef::getOp).collect(Collectors.toSet());
  }

  @Test
  void trainingResumesInANewBundleBitIdenticalToUninterruptedTraining() throws IOException {
    int[] wantW;
    long wantStep;
    int[] initialW;
    try (TrainGraph ref = new TrainGraph()) {
      initialW = wBits(ref.s);
      for (int k = 0; k < 6; k++) {
        step(ref.s, k);
      }
      wantW = wBits(ref.s);
      wantStep = stepValue(ref.s);
    }
    assertEquals(6, wantStep);
    assertFalse(java.util.Arrays.equals(initialW, wantW), "training changed nothing");

    Path dir = tmp.resolve("training");
    Model model;
    int[] afterThree;
    try (TrainGraph first = new TrainGraph()) {
      for (int k = 0; k < 3; k++) {
        step(first.s, k);
      }
      afterThree = wBits(first.s);
      model = first.model();
      TrainingExporter.export(model, dir);
    }
    try (SavedModelBundle b = SavedModelBundle.load(dir.toString(), "serve", "train")) {
      assertArrayEquals(afterThree, wBits(b.session()), "w as it was saved");
      assertEquals(3, stepValue(b.session()), "int64 step counter as it was saved");
      for (int k = 3; k < 6; k++) {
        step(b.session(), k);
      }
      assertArrayEquals(wantW, wBits(b.session()), "w after 3 + 3 steps vs 6 steps");
      assertEquals(wantStep, stepValue(b.session()));
    }

    // The training meta graph keeps every node, all signatures and a saver over both variables.
    MetaGraphDef train = metaGraph(dir, TrainingExporter.TAGS);
    Set<String> exported = train.getGraphDef().getNodeList().stream().map(NodeDef::getName)
        .collect(Collectors.toSet());
    for (NodeDef n : model.graph().getNodeList()) {
      assertTrue(exported.contains(n.getName()), "node '" + n.getName() + "' was dropped");
    }
    assertTrue(ops(train.getGraphDef()).containsAll(Set.of("ApplyGradientDescent", "AssignAdd")));
    assertEquals(Set.of("serving_default", "train"), train.getSignatureDefMap().keySet());
    assertEquals(Signature.PREDICT_METHOD,
        train.getSignatureDefOrThrow("serving_default").getMethodName());
    assertEquals("save/restore_all", train.getSaverDef().getRestoreOpName());
    // ... and TF Serving's {serve} meta graph over the same checkpoint passes the contract check.
    MetaGraphDef serve = metaGraph(dir, List.of("serve"));
    assertFalse(ops(serve.getGraphDef()).contains("ApplyGradientDescent"));
    ServingCheck.Result check = ServingCheck.check(dir);
    assertTrue(check.passed(), check.reason());
    try (Stream<Path> s = Files.list(tmp)) {
      assertEquals(List.of(dir), s.toList(), "no temporary folder left behind");
    }
  }

  @Test
  void servingExportOfTheSameModelDropsTheTrainingOps() throws IOException {
    Model model;
    try (TrainGraph t = new TrainGraph()) {
      step(t.s, 0);
      model = t.model();
    }
    Path dir = tmp.resolve("served");
    ServingExporter.export(model, dir);
    SavedModel sm = SavedModel.parseFrom(Files.readAllBytes(dir.resolve("saved_model.pb")));
    assertEquals(1, sm.getMetaGraphsCount());
    GraphDef g = sm.getMetaGraphs(0).getGraphDef();
    Set<String> ops = ops(g);
    assertFalse(ops.contains("ApplyGradientDescent"), "training op in the serving graph");
    assertFalse(ops.contains("AssignAdd"), "step update in the serving graph");
    assertTrue(g.getNodeList().stream().noneMatch(n -> n.getName().equals("step")));
    ServingCheck.Result check = ServingCheck.check(dir);
    assertTrue(check.passed(), check.reason());
  }

  @Test
  void reExportingALoadedTrainingGraphReplacesItsOldSaver() throws IOException {
    Model model;
    try (TrainGraph t = new TrainGraph()) {
      step(t.s, 0);
      model = t.model();
    }
    Path first = tmp.resolve("first");
    TrainingExporter.export(model, first);
    Model reloaded;
    int[] bits;
    try (SavedModelBundle b = SavedModelBundle.load(first.toString(), "serve", "train")) {
      step(b.session(), 1);
      bits = wBits(b.session());
      GraphDef g = b.graph().toGraphDef();
      assertTrue(g.getNodeList().stream().anyMatch(n -> n.getName().equals("save/restore_all")));
      Map<String, TensorProto> values = new LinkedHashMap<>();
      for (String v : List.of("w", "step")) {
        try (Result r = b.session().runner().fetch(v).run()) {
          values.put(v, TensorValues.toProto(r.get(0)));
        }
      }
      reloaded = new Model(g, values, model.signatures());
    }
    Path second = tmp.resolve("second");
    TrainingExporter.export(reloaded, second);
    try (SavedModelBundle b = SavedModelBundle.load(second.toString(), "serve", "train")) {
      assertArrayEquals(bits, wBits(b.session()));
      assertEquals(2, stepValue(b.session()));
    }
  }

  @Test
  void aModelWithoutServingDefaultKeepsItsSignaturesAndGetsOne() throws IOException {
    Model model;
    try (TrainGraph t = new TrainGraph()) {
      model = t.model();
    }
    Signature train = model.signature("train");
    Signature predict = model.signature(Signature.SERVING_DEFAULT);
    Model renamed = new Model(model.graph(), model.variables(), List.of(train,
        new Signature("predict", "", predict.inputs(), predict.outputs())));
    Path dir = tmp.resolve("renamed");
    TrainingExporter.export(renamed, dir);
    MetaGraphDef meta = metaGraph(dir, TrainingExporter.TAGS);
    assertEquals(Set.of("serving_default", "train", "predict"), meta.getSignatureDefMap().keySet());
    assertEquals(Signature.PREDICT_METHOD,
        meta.getSignatureDefOrThrow("serving_default").getMethodName());
    assertEquals(Set.of("loss"),
        meta.getSignatureDefOrThrow("serving_default").getOutputsMap().keySet(),
        "serving_default copies the first signature");
    try (SavedModelBundle b = SavedModelBundle.load(dir.toString(), "serve", "train")) {
      assertEquals(0, stepValue(b.session()));
    }
  }

  @Test
  void refusesResourceVariablesMissingValuesAndNonEmptyTargets() throws IOException {
    Model model;
    try (TrainGraph t = new TrainGraph()) {
      model = t.model();
    }
    GraphView g = GraphView.of(model.graph());
    g.add(Nodes.op("VarHandleOp", "dense/kernel").type("dtype", DataType.DT_FLOAT)
        .attr("shape", AttrValue.newBuilder().setShape(
            org.tensorflow.proto.TensorShapeProto.getDefaultInstance()).build())
        .attr("container", "").attr("shared_name", "dense/kernel").build());
    Model withResource = model.with(g.toGraphDef(), model.variables());
    Path bad = tmp.resolve("bad");
    ExportException e = assertThrows(ExportException.class,
        () -> TrainingExporter.export(withResource, bad));
    assertTrue(e.getMessage().contains("'dense/kernel'"), e.getMessage());
    assertTrue(e.getMessage().contains("VariableV2"), e.getMessage());
    assertFalse(Files.exists(bad));

    Map<String, TensorProto> noStep = new LinkedHashMap<>(model.variables());
    noStep.remove("step");
    e = assertThrows(ExportException.class,
        () -> TrainingExporter.export(model.with(model.graph(), noStep), bad));
    assertTrue(e.getMessage().contains("'step'"), e.getMessage());
    assertFalse(Files.exists(bad));

    Map<String, TensorProto> wrongType = new LinkedHashMap<>(model.variables());
    wrongType.put("step", model.variables().get("w"));
    e = assertThrows(ExportException.class,
        () -> TrainingExporter.export(model.with(model.graph(), wrongType), bad));
    assertTrue(e.getMessage().contains("'step'"), e.getMessage());

    Path full = Files.createDirectories(tmp.resolve("full"));
    Files.writeString(full.resolve("x"), "x");
    assertThrows(ExportException.class, () -> TrainingExporter.export(model, full));
    assertNotEquals(0, Files.size(full.resolve("x")));
    try (Stream<Path> s = Files.list(tmp)) {
      assertEquals(List.of(full), s.toList(), "nothing written for refused exports");
    }
  }
}
