package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.model.Model;
import dev.dks.savedmodels.SavedModelReader;
import dev.dks.savedmodels.export.ServingCheck;
import dev.dks.savedmodels.export.ServingExporter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.TensorProto;

/** {@code dks train} on the 8x8 digits, in-process with real TF. */
class TrainCommandTest {
  @TempDir static Path tmp;
  private static Path model;

  @BeforeAll
  static void buildModel() {
    Model m = ModelBuilder.build(ArchitectureSpec.builder(Architecture.MLP, 2).width(64)
        .input("8x8x1").classes(10).activation("tanh").shaped(dev.dks.solver.solve.Method.DKS)
        .seed(3).build()).model();
    model = tmp.resolve("mlp");
    ServingExporter.export(m, model);
  }

  private static void requireDigits() {
    Assets.dataCache("digits/digits.csv.gz");
  }

  @Test
  void trainsDigitsAndWritesBothSavedModels() throws Exception {
    requireDigits();
    Path out = tmp.resolve("run");
    JsonNode j = Cli.json("train", model.toString(), "--data", "digits", "--optimizer",
        "nesterov", "--lr", "0.05", "--schedule", "cosine", "--warmup-steps", "10", "--steps",
        "150", "--batch", "32", "--eval-every", "50", "--checkpoint-every", "50", "--out",
        out.toString());
    System.out.println(j);
    assertEquals(150, j.get("steps").asLong());
    assertEquals("completed", j.get("status").asText());
    assertTrue(j.get("test").get("accuracy").asDouble() > 0.5, j.toString());
    assertTrue(j.get("device").get("ops").size() > 0, j.toString());
    j.get("device").get("ops").fields().forEachRemaining(e -> {
      assertTrue(e.getKey().contains("CPU"), e.getKey());
      assertTrue(e.getValue().asInt() > 0);
    });
    ObjectMapper om = new ObjectMapper();
    long stepLines = Files.readAllLines(out.resolve("metrics.jsonl")).stream()
        .map(l -> {
          try {
            return om.readTree(l);
          } catch (Exception e) {
            throw new AssertionError(l, e);
          }
        }).filter(n -> n.get("type").asText().equals("step")).count();
    assertEquals(150, stepLines);
    assertTrue(Files.isRegularFile(out.resolve("checkpoint.ckpt")));
    assertTrue(Files.isRegularFile(out.resolve("training/saved_model.pb")));
    ServingCheck.Result check = ServingCheck.check(out.resolve("serving"));
    assertTrue(check.passed(), check.reason());
  }

  @Test
  void resumeGivesTheSameVariablesAsAnUninterruptedRun() {
    requireDigits();
    Path full = tmp.resolve("full");
    Path split = tmp.resolve("split");
    // a schedule that does not depend on the run's total steps (the default cosine does)
    String[] common = {"--data", "digits", "--optimizer", "momentum", "--lr", "0.05",
        "--schedule", "constant", "--warmup-steps", "0", "--batch", "32", "--seed", "7", "--checkpoint-every", "20", "--eval-every", "1000"};
    run(concat(new String[] {"train", model.toString(), "--steps", "100", "--out",
        full.toString()}, common));
    run(concat(new String[] {"train", model.toString(), "--steps", "50", "--out",
        split.toString()}, common));
    JsonNode j = Cli.json(concat(new String[] {"train", model.toString(), "--steps", "100",
        "--resume", "--out", split.toString()}, common));
    assertEquals(50, j.get("start_step").asLong());
    assertEquals(100, j.get("steps").asLong());
    Map<String, TensorProto> a = SavedModelReader.read(full.resolve("serving")).variables();
    Map<String, TensorProto> b = SavedModelReader.read(split.resolve("serving")).variables();
    assertEquals(a.keySet(), b.keySet());
    assertTrue(!a.isEmpty());
    for (String k : a.keySet()) {
      assertArrayEquals(a.get(k).toByteArray(), b.get(k).toByteArray(), k);
    }
  }

  @Test
  void kfacTrainsDigitsAndLogsItsBlocks() throws Exception {
    requireDigits();
    Path out = tmp.resolve("kfac");
    JsonNode j = Cli.json("train", model.toString(), "--data", "digits", "--optimizer", "kfac",
        "--kfac-recipe", "tat", "--lr", "0.003", "--schedule", "cosine", "--warmup-steps", "10",
        "--steps", "150",
        "--batch", "32", "--inverse-every", "10", "--eval-every", "1000", "--out",
        out.toString());
    assertEquals("kfac", j.get("optimizer").asText());
    assertEquals("tat", j.get("settings").get("kfac").get("recipe").asText(), j.toString());
    assertEquals(0.003, j.get("settings").get("lr").asDouble(), j.toString());
    // the built MLP: 2 hidden dense layers and the dense head, each kernel + bias
    assertEquals(3, j.get("kfac").get("kronecker_layers").asInt(), j.toString());
    assertEquals(0, j.get("kfac").get("diagonal_blocks").asInt(), j.toString());
    assertEquals(6, j.get("kfac").get("blocks").size(), j.toString());
    assertTrue(j.get("test").get("accuracy").asDouble() > 0.5, j.toString());
    ObjectMapper om = new ObjectMapper();
    long logged = 0;
    for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
      JsonNode n = om.readTree(line);
      if (!n.get("type").asText().equals("step")) {
        continue;
      }
      JsonNode k = n.get("kfac");
      assertEquals(1e-3, k.get("damping").asDouble(), 1e-9, line); // the TAT recipe's damping
      assertTrue(k.get("clip").asDouble() > 0 && k.get("clip").asDouble() <= 1, line);
      assertTrue(k.get("grad_dot_update").asDouble() > 0, line);
      logged++;
    }
    assertEquals(150, logged);
  }

  @Test
  void kfacDivergenceNamesTheKnobsToTurn() throws Exception {
    requireDigits();
    // no norm constraint and a huge learning rate: the first updates overflow
    Cli r = Cli.run("train", model.toString(), "--data", "digits", "--optimizer", "kfac",
        "--kfac-recipe", "tat", "--lr", "1e30", "--schedule", "constant", "--warmup-steps", "0",
        "--norm-constraint", "0", "--steps", "20", "--batch", "32",
        "--inverse-every", "10", "--eval-every", "1000", "--out", tmp.resolve("kd").toString());
    // training ran, so stderr also has the registration log and the progress bar
    assertEquals(2, r.code(), r.err());
    String last = r.err().strip().lines().reduce((a, b) -> b).orElse("");
    for (String f : List.of("dks: error: training diverged at step 1 ", "divergence ceiling",
        "--damping", "--conv-approximation reduce")) {
      assertTrue(last.contains(f), "expected '" + f + "' in " + last);
    }
    // the ceiling is 100x the first step's loss, as metrics.jsonl recorded it
    double first = Double.NaN;
    double ceiling = Double.NaN;
    ObjectMapper om = new ObjectMapper();
    for (String line : Files.readAllLines(tmp.resolve("kd").resolve("metrics.jsonl"))) {
      JsonNode n = om.readTree(line);
      if (n.get("type").asText().equals("step") && n.get("step").asLong() == 0) {
        first = n.get("loss").asDouble();
      }
      if (n.get("type").asText().equals("divergence")) {
        ceiling = n.get("loss_ceiling").asDouble();
      }
    }
    assertEquals(100 * Math.max(1, first), ceiling, 1e-4 * ceiling);
  }

  @Test
  void kfacResumeContinuesExactly() {
    requireDigits();
    Path full = tmp.resolve("kfull");
    Path split = tmp.resolve("ksplit");
    // resume at 45: between inverse refreshes (every 10), so the cached inverses, the factor
    // averages and the velocities must all come back from the checkpoint
    String[] common = {"--data", "digits", "--optimizer", "kfac", "--lr", "0.003", "--schedule",
        "constant", "--warmup-steps", "0", "--batch", "32", "--seed", "7", "--inverse-every", "10", "--checkpoint-every", "15",
        "--eval-every", "1000"};
    run(concat(new String[] {"train", model.toString(), "--steps", "60", "--out",
        full.toString()}, common));
    run(concat(new String[] {"train", model.toString(), "--steps", "45", "--out",
        split.toString()}, common));
    JsonNode j = Cli.json(concat(new String[] {"train", model.toString(), "--steps", "60",
        "--resume", "--out", split.toString()}, common));
    assertEquals(45, j.get("start_step").asLong());
    Map<String, TensorProto> a = SavedModelReader.read(full.resolve("serving")).variables();
    Map<String, TensorProto> b = SavedModelReader.read(split.resolve("serving")).variables();
    assertEquals(a.keySet(), b.keySet());
    for (String k : a.keySet()) {
      assertArrayEquals(a.get(k).toByteArray(), b.get(k).toByteArray(), k);
    }
  }

  @Test
  void refusalsAreOneErrorLine() {
    Cli.assertOneErrorLine(Cli.run("train", model.toString(), "--data", "digits", "--steps",
        "5", "--optimizer", "kfac", "--inverse", "qr", "--out", tmp.resolve("q").toString()),
        "--inverse", "qr", "cholesky");
    Cli.assertOneErrorLine(Cli.run("train", model.toString(), "--data", "digits", "--steps",
        "5", "--optimizer", "kfac", "--curvature-every", "3", "--out",
        tmp.resolve("m").toString()), "multiple");
    Cli.assertOneErrorLine(Cli.run("train", model.toString(), "--data", "digits", "--steps",
        "5", "--optimizer", "kfac", "--patch-rows-per-dim", "-1", "--out",
        tmp.resolve("p").toString()), "patch rows", "-1");
    Cli.assertOneErrorLine(Cli.run("train", model.toString(), "--data", "digits", "--steps",
        "5", "--optimizer", "adam", "--out", tmp.resolve("a").toString()), "adam", "kfac");
    Cli.assertOneErrorLine(Cli.run("train", model.toString(), "--data", "digits", "--steps",
        "5", "--epochs", "1", "--out", tmp.resolve("se").toString()), "--steps", "--epochs");
    Cli.assertOneErrorLine(Cli.run("train", model.toString(), "--data", "digits", "--steps",
        "5", "--device", "tpu", "--out", tmp.resolve("x").toString()), "tpu");
    Cli.assertOneErrorLine(Cli.run("train", model.toString(), "--data", "synthetic:4x4x1",
        "--steps", "5", "--out", tmp.resolve("y").toString()), "8x8x1", "4x4x1");
    Cli.assertOneErrorLine(Cli.run("train", model.toString(), "--data", "digits", "--steps",
        "5", "--resume", "--out", tmp.resolve("none").toString()), "checkpoint");
  }

  /**
   * {@code --standardize on} puts (x - mean) / std into the model: the mean is that of the
   * training part (summed here by hand), the serving model carries the ops with an unchanged
   * signature, and training that model again keeps its standardization instead of adding one.
   */
  @Test
  void standardizeOnPutsTheOpsIntoTheExportedModelsOnce() throws Exception {
    requireDigits();
    Path first = tmp.resolve("std1");
    JsonNode j = Cli.json("train", model.toString(), "--data", "digits", "--optimizer",
        "nesterov", "--steps", "3", "--batch", "32", "--standardize", "on", "--out",
        first.toString());
    assertTrue(j.get("input").get("standardized").asBoolean(), j.toString());
    assertTrue(j.get("input").get("added").asBoolean(), j.toString());
    dev.dks.trainers.data.Dataset train = dev.dks.trainers.data.DataSets.load("digits",
        dev.dks.savedmodels.assets.SharedAssets.dataCacheDir()).split(0.2, 0).train();
    double sum = 0;
    for (float v : train.images()) {
      sum += v;
    }
    double mean = sum / train.images().length;
    assertEquals(mean, j.get("input").get("mean").get(0).asDouble(), 1e-5);
    Model served = SavedModelReader.read(first.resolve("serving"), "serve");
    assertTrue(served.graph().getNodeList().stream().anyMatch(n -> n.getName().equals(
        "dks_input_standardization/mean")));
    var in = served.signature("serving_default").inputs();
    var before = SavedModelReader.read(model, "serve").signature("serving_default").inputs();
    assertEquals(before.keySet(), in.keySet());
    assertEquals(before.values().iterator().next().tensor(), in.values().iterator().next()
        .tensor());
    assertArrayEquals(before.values().iterator().next().shape(), in.values().iterator().next()
        .shape());
    JsonNode again = Cli.json("train", first.resolve("training").toString(), "--data", "digits",
        "--optimizer", "nesterov", "--steps", "2", "--batch", "32", "--standardize", "on",
        "--out", tmp.resolve("std2").toString());
    assertTrue(again.get("input").get("standardized").asBoolean(), again.toString());
    assertEquals(false, again.get("input").get("added").asBoolean(), again.toString());
    assertEquals(mean, again.get("input").get("mean").get(0).asDouble(), 1e-5);
    JsonNode off = Cli.json("train", model.toString(), "--data", "digits", "--optimizer",
        "nesterov", "--steps", "2", "--batch", "32", "--out", tmp.resolve("std0").toString());
    assertEquals(false, off.get("input").get("standardized").asBoolean(), off.toString());
  }

  private static void run(String... args) {
    Cli r = Cli.run(args);
    assertEquals(0, r.code(), r.err());
  }

  private static String[] concat(String[] a, String[] b) {
    String[] c = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }
}
