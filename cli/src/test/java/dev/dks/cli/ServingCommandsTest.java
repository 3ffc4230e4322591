package dev.dks.cli;

import static dev.dks.cli.Cli.assertOneErrorLine;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.savedmodels.ModelReaders;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * {@code dks convert}, {@code export} and {@code check-serving} on real models, with real
 * TensorFlow: every converted SavedModel passes the serving contract check and computes what the
 * source computes on random inputs, the source run through its own loader ({@link
 * SavedModelBundle} for SavedModels, {@link Graph#importGraphDef} of the raw GraphDef for frozen
 * graphs, the reader's in-memory model in a {@link ModelSession} for TF.js and Keras files);
 * exports keep one signature; broken folders fail the check with a reason; one check runs in a
 * fresh JVM, as {@code ./dks check-serving} does.
 */
class ServingCommandsTest {
  @TempDir Path tmp;

  private static final ObjectMapper JSON = new ObjectMapper();

  // ------------------------------------------------------------------ convert

  /**
   * Each case: where the model is ({@code shared} or {@code cache}), its path there, the format
   * convert must report, how the source runs ({@code bundle}, {@code graphdef}, {@code model}),
   * and the tolerance on the max abs output difference: 0 (bit-exact) where the converted graph
   * is the source graph (SavedModels: the reader's inlined TF1 form of what TF runs; Keras: the
   * reader's graph, which has no constant weights to move), 1e-4 where constant weights became
   * variables (frozen GraphDef, TF.js graph model).
   */
  @ParameterizedTest(name = "{1}")
  @CsvSource({
    "shared, tfserving_half_plus_two_tf2_cpu, saved_model, bundle, 0",
    "shared, tm_mobilenetv2_035_tf115, saved_model, bundle, 0",
    "shared, mlperftiny_kws_dscnn, saved_model, bundle, 0",
    "shared, frozen_mlnet_cifar_model/frozen_model.pb, frozen_graph, graphdef, 1e-4",
    "shared, keras_h5_mlperftiny_resnet8/pretrainedResnet.h5, keras_h5, model, 0",
    "cache, nsfwjs-4.4.0/mobilenet_v2_mid/model.json, tfjs_graph_model, model, 1e-4",
    "cache, nsfwjs-4.4.0/mobilenet_v2/model.json, keras_layers_model, model, 0"})
  void convertedModelsServeAndComputeWhatTheSourceComputes(String where, String rel,
      String format, String runner, double tolerance) throws IOException {
    Path in = where.equals("shared") ? Assets.sharedModel(rel) : Assets.dataCache(rel);
    Path out = tmp.resolve("converted");
    long t0 = System.nanoTime();
    JsonNode j = Cli.json("convert", in.toString(), "--out", out.toString());
    long convertMs = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(format, j.get("format").asText());
    assertEquals(out.toAbsolutePath().toString(), j.get("out").asText());
    assertTrue(j.get("reader_warnings").isEmpty(), j.get("reader_warnings").toString());
    assertOnlyTheOutputBeside(out);

    SavedModel sm = SavedModel.parseFrom(Files.readAllBytes(out.resolve("saved_model.pb")));
    MetaGraphDef meta = sm.getMetaGraphs(0);
    assertEquals(List.of("serve"), meta.getMetaInfoDef().getTagsList());
    SignatureDef served = meta.getSignatureDefOrThrow("serving_default");
    assertEquals("tensorflow/serving/predict", served.getMethodName());
    assertEquals(j.get("written").get("nodes").asInt(), meta.getGraphDef().getNodeCount());
    long bigConsts = 0;
    for (NodeDef n : meta.getGraphDef().getNodeList()) {
      assertFalse(n.getOp().equals("VarHandleOp") || n.getOp().startsWith("_"), n.getName());
      assertFalse(n.getName().startsWith("dks_assign"), "no leftovers of the old exporter");
      if (n.getOp().equals("Const") && n.getAttrOrThrow("dtype").getType() == DataType.DT_FLOAT
          && n.getAttrOrThrow("value").getTensor().getTensorContent().size() > 16 * 1024) {
        bigConsts++;
      }
    }
    assertEquals(0, bigConsts, "float weights must live in the checkpoint, not in the graph");

    Cli check = Cli.run("check-serving", out.toString(), "--json");
    assertEquals(0, check.code(), check.out() + check.err());
    assertTrue(JSON.readTree(check.out()).get("passed").asBoolean(), check.out());

    Random rnd = new Random(rel.hashCode());
    Map<String, TensorProto> feeds = randomFeeds(served, rnd);
    Map<String, float[]> got;
    try (SavedModelBundle b = SavedModelBundle.load(out.toString(), "serve")) {
      got = run(b.session(), served, feeds);
    }
    Map<String, float[]> want = switch (runner) {
      case "bundle" -> {
        try (SavedModelBundle b = SavedModelBundle.load(in.toString(), "serve")) {
          yield run(b.session(), b.metaGraphDef().getSignatureDefOrThrow("serving_default"),
              feeds);
        }
      }
      case "graphdef" -> {
        // the raw GraphDef as TensorFlow imports it; the converted signature names its tensors
        try (Graph g = new Graph()) {
          g.importGraphDef(GraphDef.parseFrom(Files.readAllBytes(in)));
          try (Session s = new Session(g)) {
            yield run(s, served, feeds);
          }
        }
      }
      default -> inMemory(ModelReaders.read(in), served, feeds);
    };
    assertEquals(want.keySet(), got.keySet());
    double max = 0;
    for (String k : want.keySet()) {
      assertEquals(want.get(k).length, got.get(k).length, k);
      max = Math.max(max, maxAbsDiff(want.get(k), got.get(k)));
    }
    System.out.printf(Locale.ROOT, "convert %s (%s): %d ms, %d outputs compared, max abs diff "
        + "%.3g (tolerance %s), constants to variables %s, saved_model.pb %,d bytes, variables "
        + "%,d bytes%n", rel, format, convertMs,
        want.values().stream().mapToInt(v -> v.length).sum(), max, tolerance,
        j.get("constants_to_variables"), j.get("written").get("saved_model_pb_bytes").asLong(),
        j.get("written").get("variables_bytes").asLong());
    if (tolerance == 0) {
      assertEquals(0.0, max, rel + ": the graph is unchanged, the outputs must be identical");
    } else {
      assertTrue(max < tolerance, rel + ": max abs diff " + max);
    }
  }

  /**
   * A TF1 SavedModel whose nodes carry _output_shapes (ML.NET's CIFAR net): the input
   * normalization widens the first kernel from 3 to 4 input channels, and the stale recorded
   * shape [7,7,3,32] made TensorFlow reject the graph after the pln pass.
   */
  @Test
  void rewriteOfATf1ModelWithRecordedShapesWidensTheFirstKernel() throws IOException {
    Path model = Assets.sharedModel("mlnet_cifar_saved_model");
    Path out = tmp.resolve("cifar_tat");
    Cli r = Cli.run("rewrite", model.toString(), "--out", out.toString());
    assertEquals(0, r.code(), r.err());
    assertEquals(0, Cli.run("check-serving", out.toString()).code());
  }

  @Test
  void convertTextReportAndConstantsBecomeVariables() throws IOException {
    Path pb = Assets.sharedModel("frozen_mlnet_cifar_model/frozen_model.pb");
    Path out = tmp.resolve("cifar");
    Cli r = Cli.run("convert", pb.toString(), "--out", out.toString());
    assertEquals(0, r.code(), r.err());
    String o = r.out();
    assertTrue(o.contains("(frozen_graph): 13 nodes, 0 variables, signatures [serving_default]"),
        o);
    assertTrue(o.contains("weights: 3 layer constants turned into variables"), o);
    assertTrue(o.contains("written to " + out.toAbsolutePath() + " (SavedModel, tag serve): "),
        o);
    assertTrue(o.contains(", 3 variables;"), o);
    assertTrue(o.contains("signature serving_default (tensorflow/serving/predict)"), o);
    assertTrue(o.lines().anyMatch(l -> l.matches("\\s+input\\s+Input\\s+Input:0\\s+"
        + "float\\[-1,32,32,3\\]")), o);
    assertTrue(o.lines().anyMatch(l -> l.matches("\\s+output\\s+Output\\s+Output:0\\s+"
        + "float\\[-1,10\\]")), o);

    JsonNode k = Cli.json("convert", pb.toString(), "--out", tmp.resolve("kept").toString(),
        "--keep-constants");
    assertTrue(k.get("constants_to_variables").isNull());
    assertEquals(0, k.get("written").get("variables").asInt());
    assertTrue(k.get("written").get("saved_model_pb_bytes").asLong() > 200_000,
        "the weights stay in the graph");
    assertEquals(0, Cli.run("check-serving", tmp.resolve("kept").toString()).code());
  }

  @Test
  void convertErrorsAreOneLineAndWriteNothing() throws IOException {
    Path taken = Files.createDirectories(tmp.resolve("taken"));
    Files.writeString(taken.resolve("keep.txt"), "mine");
    Path model = built("mlp");
    assertOneErrorLine(Cli.run("convert", model.toString(), "--out", taken.toString()),
        "not empty");
    assertEquals("mine", Files.readString(taken.resolve("keep.txt")));

    Path garbage = Files.writeString(tmp.resolve("garbage.pb"), "not a graph");
    assertOneErrorLine(Cli.run("convert", garbage.toString(), "--out",
        tmp.resolve("never").toString()), "garbage.pb");
    assertOneErrorLine(Cli.run("convert", model.toString()), "--out");

    // a graph the serving writer refuses (a TF-internal op, as in graphs dumped after Grappler):
    // an ExportException, one line, exit 2, nothing written
    GraphDef g = GraphDef.newBuilder()
        .addNode(node("x", "Placeholder").putAttr("dtype", type(DataType.DT_FLOAT))
            .putAttr("shape", AttrValue.newBuilder().setShape(TensorShapeProto.newBuilder()
                .addDim(TensorShapeProto.Dim.newBuilder().setSize(-1))).build()))
        .addNode(node("y", "_HostCast").addInput("x").putAttr("SrcT", type(DataType.DT_FLOAT))
            .putAttr("DstT", type(DataType.DT_FLOAT)))
        .build();
    Path internal = Files.write(tmp.resolve("internal.pb"), g.toByteArray());
    assertOneErrorLine(Cli.run("convert", internal.toString(), "--out",
        tmp.resolve("never").toString()), "node 'y' has op '_HostCast'",
        "TF Serving's standard build does not have");
    assertFalse(Files.exists(tmp.resolve("never")));
    assertOnlyTheOutputBeside(tmp.resolve("taken"), "garbage.pb", "internal.pb", "mlp");
  }

  // ------------------------------------------------------------------ export

  @Test
  void exportKeepsServingDefaultOfAModelWithSeveralSignatures() throws IOException {
    Path in = Assets.sharedModel("tfserving_half_plus_two_tf2_cpu");
    Path out = tmp.resolve("hp2");
    JsonNode j = Cli.json("export", in.toString(), "--out", out.toString());
    assertEquals(6, j.get("read").get("signatures").size());
    assertEquals("serving_default", j.get("source_signature").asText());
    assertEquals(5, j.get("dropped_signatures").size());
    assertEquals(3, j.get("dropped_ops").get("ParseExampleV2").asInt(),
        "the tf.Example signatures' parsers go");
    assertEquals(1, j.get("signatures").size());
    JsonNode sig = j.get("signatures").get(0);
    assertEquals("serving_default", sig.get("key").asText());
    assertEquals("tensorflow/serving/predict", sig.get("method_name").asText());
    assertEquals("[1]", sig.get("inputs").get("x").get("shape").toString());
    assertTrue(sig.get("outputs").has("y"));
    assertEquals(0, Cli.run("check-serving", out.toString()).code());
    assertOnlyTheOutputBeside(out);

    try (SavedModelBundle b = SavedModelBundle.load(out.toString(), "serve")) {
      assertEquals(List.of("serving_default"),
          List.copyOf(b.metaGraphDef().getSignatureDefMap().keySet()));
      for (float x : new float[] {0f, 1f, -4f, 3.25f}) {
        Map<String, TensorProto> feed = Map.of("x", TensorProtos.ofFloats(new long[] {1},
            new float[] {x}));
        float y = run(b.session(), b.metaGraphDef().getSignatureDefOrThrow("serving_default"),
            feed).get("y")[0];
        assertEquals(0.5f * x + 2f, y, 0f, "half plus two of " + x);
      }
    }

    // another signature, by name: it becomes serving_default (predict)
    Path out2 = tmp.resolve("hp2_regress");
    JsonNode r = Cli.json("export", in.toString(), "--signature", "regress_x2_to_y3", "--out",
        out2.toString());
    assertEquals("regress_x2_to_y3", r.get("source_signature").asText());
    try (SavedModelBundle b = SavedModelBundle.load(out2.toString(), "serve")) {
      SignatureDef s = b.metaGraphDef().getSignatureDefOrThrow("serving_default");
      assertEquals("tensorflow/serving/predict", s.getMethodName());
      float y = run(b.session(), s, Map.of("inputs", TensorProtos.ofFloats(new long[] {1},
          new float[] {2f}))).get("outputs")[0];
      assertEquals(0.5f * 2f + 3f, y, 0f, "half plus three of x2");
    }
  }

  @Test
  void exportOfATrainingSavedModelDropsTheTrainingOps() throws IOException {
    Path in = Assets.sharedModel("tfrust_regression_savedmodel");
    assertOneErrorLine(Cli.run("export", in.toString(), "--out", tmp.resolve("x").toString()),
        "no usable serving_default signature", "--signature", "[b, train, w]");
    assertOneErrorLine(Cli.run("export", in.toString(), "--signature", "nope", "--out",
        tmp.resolve("x").toString()), "no usable signature 'nope'");
    assertFalse(Files.exists(tmp.resolve("x")));

    Path out = tmp.resolve("w");
    JsonNode j = Cli.json("export", in.toString(), "--signature", "w", "--out", out.toString());
    assertEquals(List.of("b", "train"), List.of(j.get("dropped_signatures").get(0).asText(),
        j.get("dropped_signatures").get(1).asText()));
    assertEquals(2, j.get("dropped_ops").get("ApplyGradientDescent").asInt());
    SavedModel sm = SavedModel.parseFrom(Files.readAllBytes(out.resolve("saved_model.pb")));
    for (NodeDef n : sm.getMetaGraphs(0).getGraphDef().getNodeList()) {
      assertFalse(n.getOp().startsWith("Apply") || n.getOp().startsWith("Assign")
          && !n.getName().startsWith("save/"), "training op left: " + n);
    }
    assertEquals(0, Cli.run("check-serving", out.toString()).code());
    float[] want;
    try (SavedModelBundle b = SavedModelBundle.load(in.toString(), "serve")) {
      want = run(b.session(), b.metaGraphDef().getSignatureDefOrThrow("w"), Map.of())
          .get("output");
    }
    try (SavedModelBundle b = SavedModelBundle.load(out.toString(), "serve")) {
      float[] got = run(b.session(), b.metaGraphDef().getSignatureDefOrThrow("serving_default"),
          Map.of()).get("output");
      assertEquals(0.0, maxAbsDiff(want, got), "the trained weight, exactly");
    }

    Cli text = Cli.run("export", in.toString(), "--signature", "b", "--out",
        tmp.resolve("b").toString());
    assertEquals(0, text.code(), text.err());
    assertTrue(text.out().contains("serving_default <- signature 'b'"), text.out());
    assertTrue(text.out().contains("dropped signatures: [train, w]"), text.out());
    assertTrue(text.out().contains("ApplyGradientDescent=2"), text.out());

    Path pb = Assets.sharedModel("frozen_mlnet_cifar_model/frozen_model.pb");
    assertOneErrorLine(Cli.run("export", pb.toString(), "--out", tmp.resolve("x").toString()),
        "frozen_graph", "dks convert");
  }

  // ------------------------------------------------------------------ check-serving

  @Test
  void checkServingFailsOnBrokenFoldersWithAReason() throws IOException {
    Path good = built("mlp");
    Cli ok = Cli.run("check-serving", good.toString());
    assertEquals(0, ok.code(), ok.out() + ok.err());
    assertEquals("", ok.err());
    assertTrue(ok.out().lines().anyMatch(l -> l.matches("\\s+input\\s+input\\s+input:0\\s+float"
        + "\\s+declared \\[-1,1,1,8\\]\\s+fed \\[2,1,1,8\\]")), ok.out());
    assertTrue(ok.out().lines().anyMatch(l -> l.matches("\\s+output\\s+logits\\s+logits:0\\s+"
        + "float\\s+declared \\[-1,10\\]\\s+got \\[2,10\\]")), ok.out());
    assertEquals("PASS", ok.out().strip().lines().reduce((a, b) -> b).orElseThrow());
    JsonNode j = JSON.readTree(Cli.run("check-serving", good.toString(), "--json").out());
    assertTrue(j.get("passed").asBoolean());
    assertTrue(j.get("reason").isNull());
    assertEquals("[-1,1,1,8]", j.get("inputs").get(0).get("declared_shape").toString());
    assertEquals("[2,1,1,8]", j.get("inputs").get(0).get("shape").toString());
    assertEquals("DT_FLOAT", j.get("outputs").get(0).get("dtype").asText());
    // saved_model.pb stands for its folder
    assertEquals(0, Cli.run("check-serving", good.resolve("saved_model.pb").toString()).code());

    Path noVars = copy(good, "no_vars");
    FileTrees.delete(noVars.resolve("variables"));
    assertCheckFails(noVars, "uninitialized", "variables checkpoint is gone",
        noVars.resolve("variables") + " is missing");

    byte[] pb = Files.readAllBytes(good.resolve("saved_model.pb"));
    Path truncated = copy(good, "truncated");
    Files.write(truncated.resolve("saved_model.pb"), java.util.Arrays.copyOf(pb, pb.length / 2));
    assertCheckFails(truncated, "TensorFlow cannot load", "with the tag 'serve'");

    Path garbage = copy(good, "garbage");
    Files.write(garbage.resolve("saved_model.pb"), "garbage".getBytes(StandardCharsets.UTF_8));
    assertCheckFails(garbage, "TensorFlow cannot load");

    Path empty = Files.createDirectories(tmp.resolve("empty"));
    assertCheckFails(empty, "has no saved_model.pb");

    SavedModel sm = SavedModel.parseFrom(pb);
    Path noDefault = copy(good, "no_default");
    MetaGraphDef.Builder meta = sm.getMetaGraphs(0).toBuilder();
    SignatureDef sig = meta.getSignatureDefOrThrow("serving_default");
    meta.removeSignatureDef("serving_default").putSignatureDef("predict", sig);
    Files.write(noDefault.resolve("saved_model.pb"), sm.toBuilder().setMetaGraphs(0, meta)
        .build().toByteArray());
    assertCheckFails(noDefault, "no 'serving_default' signature", "[predict]");

    Cli failJson = Cli.run("check-serving", truncated.toString(), "--json");
    assertEquals(1, failJson.code());
    JsonNode f = JSON.readTree(failJson.out());
    assertFalse(f.get("passed").asBoolean());
    assertTrue(f.get("reason").asText().contains("cannot load"), f.toString());

    // no folder at all: a usage error (exit 2), not a verdict on a model
    assertOneErrorLine(Cli.run("check-serving", tmp.resolve("missing").toString()),
        "missing does not exist");
    assertOneErrorLine(Cli.run("check-serving", good.resolve("variables")
        .resolve("variables.index").toString()), "is a file");
    assertOneErrorLine(Cli.run("check-serving"), "DIR");
  }

  /**
   * The one fresh-process run: {@code java -cp <test classpath> dev.dks.cli.DksCommand
   * check-serving DIR}, as {@code ./dks check-serving} runs it.
   */
  @Test
  void checkServingPassesInAFreshJvm() throws IOException, InterruptedException {
    Path dir = built("fresh");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        "dev.dks.cli.DksCommand", "check-serving", dir.toString());
    pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "2");
    Path stdout = tmp.resolve("fresh.out");
    Path stderr = tmp.resolve("fresh.err");
    pb.redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
    Process p = pb.start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("check-serving did not finish in 120 s");
    }
    String out = Files.readString(stdout);
    String err = Files.readString(stderr);
    assertEquals(0, p.exitValue(), out + err);
    assertTrue(out.startsWith("check-serving " + dir.toAbsolutePath()
        + ": tag serve, signature serving_default"), out);
    assertEquals("PASS", out.strip().lines().reduce((a, b) -> b).orElseThrow(), out);
    assertFalse(err.contains("check-serving failed"), err);
  }

  // ------------------------------------------------------------------ helpers

  /** A small MLP written by {@code dks build} (no shared models needed). */
  private Path built(String name) {
    Path out = tmp.resolve(name);
    Cli r = Cli.run("build", "--arch", "mlp", "--depth", "2", "--width", "16", "--input",
        "1x1x8", "--out", out.toString());
    assertEquals(0, r.code(), r.err());
    return out;
  }

  private static void assertCheckFails(Path dir, String... fragments) {
    Cli r = Cli.run("check-serving", dir.toString());
    assertEquals(1, r.code(), r.out() + r.err());
    assertEquals(1, r.err().lines().count(), r.err());
    assertTrue(r.err().startsWith("dks: check-serving failed: "), r.err());
    assertTrue(r.out().lines().anyMatch(l -> l.startsWith("FAIL: ")), r.out());
    for (String f : fragments) {
      assertTrue(r.err().contains(f), "expected '" + f + "' in " + r.err());
    }
  }

  /** Nothing but {@code out} (and the named siblings) beside it: no temporary folder left. */
  private static void assertOnlyTheOutputBeside(Path out, String... others) throws IOException {
    List<String> want = new ArrayList<>(List.of(others));
    want.add(out.getFileName().toString());
    try (Stream<Path> s = Files.list(out.toAbsolutePath().getParent())) {
      List<String> names = s.map(p -> p.getFileName().toString()).sorted().toList();
      assertEquals(want.stream().sorted().toList(), names, "no temporary folder left behind");
    }
  }

  /** Gaussian float inputs for every input of the signature; unknown dimensions become 2. */
  private static Map<String, TensorProto> randomFeeds(SignatureDef sig, Random rnd) {
    Map<String, TensorProto> feeds = new TreeMap<>();
    sig.getInputsMap().forEach((k, info) -> {
      assertEquals(DataType.DT_FLOAT, info.getDtype(), k);
      long[] shape = info.getTensorShape().getDimList().stream()
          .mapToLong(d -> d.getSize() < 0 ? 2 : d.getSize()).toArray();
      int n = 1;
      for (long d : shape) {
        n *= (int) d;
      }
      float[] v = new float[n];
      for (int i = 0; i < n; i++) {
        v[i] = (float) rnd.nextGaussian();
      }
      feeds.put(k, TensorProtos.ofFloats(shape, v));
    });
    return feeds;
  }

  /** Runs the signature: feeds by input key, returns the float outputs by output key. */
  private static Map<String, float[]> run(Session s, SignatureDef sig,
      Map<String, TensorProto> feeds) {
    List<Tensor> open = new ArrayList<>();
    try {
      Session.Runner r = s.runner();
      for (Map.Entry<String, TensorProto> f : feeds.entrySet()) {
        TensorInfo info = sig.getInputsOrThrow(f.getKey());
        Tensor t = TensorProtos.toTensor(f.getValue());
        open.add(t);
        r.feed(info.getName(), t);
      }
      List<String> keys = new ArrayList<>(new TreeMap<>(sig.getOutputsMap()).keySet());
      keys.forEach(k -> r.fetch(sig.getOutputsOrThrow(k).getName()));
      Map<String, float[]> out = new LinkedHashMap<>();
      try (Result res = r.run()) {
        for (int i = 0; i < keys.size(); i++) {
          out.put(keys.get(i), TensorProtos.floats(TensorProtos.fromTensor(res.get(i))));
        }
      }
      return out;
    } finally {
      open.forEach(Tensor::close);
    }
  }

  /** Runs the reader's in-memory model; the converted signature's tensor names are its own. */
  private static Map<String, float[]> inMemory(Model m, SignatureDef sig,
      Map<String, TensorProto> feeds) {
    try (ModelSession s = new ModelSession(m)) {
      Map<String, TensorProto> byTensor = new LinkedHashMap<>();
      feeds.forEach((k, v) -> byTensor.put(sig.getInputsOrThrow(k).getName(), v));
      List<String> keys = new ArrayList<>(new TreeMap<>(sig.getOutputsMap()).keySet());
      List<String> fetches = keys.stream().map(k -> sig.getOutputsOrThrow(k).getName()).toList();
      Map<String, TensorProto> res = s.run(byTensor, fetches);
      Map<String, float[]> out = new LinkedHashMap<>();
      for (int i = 0; i < keys.size(); i++) {
        out.put(keys.get(i), TensorProtos.floats(res.get(fetches.get(i))));
      }
      return out;
    }
  }

  private static double maxAbsDiff(float[] a, float[] b) {
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      double d = Math.abs((double) a[i] - b[i]);
      if (Double.isNaN(d)) {
        return Double.POSITIVE_INFINITY;
      }
      max = Math.max(max, d);
    }
    return max;
  }

  private static NodeDef.Builder node(String name, String op) {
    return NodeDef.newBuilder().setName(name).setOp(op);
  }

  private static AttrValue type(DataType t) {
    return AttrValue.newBuilder().setType(t).build();
  }

  private Path copy(Path src, String name) throws IOException {
    return FileTrees.copy(src, tmp.resolve(name));
  }
}
