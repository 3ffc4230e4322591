package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.savedmodels.SavedModelReader;
import dev.dks.savedmodels.export.ServingCheck;
import dev.dks.savedmodels.export.ServingExporter;
import dev.dks.trainers.data.DataSets;
import dev.dks.trainers.data.Dataset;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.NodeDef;

/**
 * {@code dks train} on a BN-ResNet (width 4, 8x8 digits): with no flag the moving averages train
 * and the serving model is in inference form with them; {@code --bn-mode frozen} leaves them.
 * Independent source for the evaluation: the served model's logits on the held-out 20% (the same
 * seeded split), with the cross-entropy computed in Java, against the loss {@code dks train}
 * reported; negative control: the same with batch statistics.
 */
class TrainBatchNormTest {
  @TempDir static Path tmp;
  private static Path model;
  private static Model built;

  @BeforeAll
  static void buildModel() {
    built = ModelBuilder.build(ArchitectureSpec.builder(Architecture.RESNET, 18).width(4)
        .input("8x8x1").classes(10).batchNorm(true).activation("relu").seed(3).build()).model();
    model = tmp.resolve("bn-resnet");
    ServingExporter.export(built, model);
  }

  private static Cli train(String out, String... extra) {
    Assets.dataCache("digits/digits.csv.gz");
    String[] base = {"train", model.toString(), "--data", "digits", "--optimizer", "nesterov",
        "--lr", "0.05", "--steps", "30", "--batch", "32", "--eval-every", "1000", "--json",
        "--out", tmp.resolve(out).toString()};
    String[] args = java.util.Arrays.copyOf(base, base.length + extra.length);
    System.arraycopy(extra, 0, args, base.length, extra.length);
    Cli r = Cli.run(args);
    assertEquals(0, r.code(), r.err());
    return r;
  }

  private static double crossEntropy(float[] logits, int[] labels, int k) {
    double sum = 0;
    for (int i = 0; i < labels.length; i++) {
      double max = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < k; j++) {
        max = Math.max(max, logits[i * k + j]);
      }
      double z = 0;
      for (int j = 0; j < k; j++) {
        z += Math.exp(logits[i * k + j] - max);
      }
      sum -= logits[i * k + labels[i]] - max - Math.log(z);
    }
    return sum / labels.length;
  }

  private static double loss(Model m, Dataset d) {
    try (ModelSession s = new ModelSession(m)) {
      float[] logits = TensorProtos.floats(s.run(Map.of("input", TensorProtos.ofFloats(
          new long[] {d.size(), d.h(), d.w(), d.c()}, d.images())), List.of("logits"))
          .get("logits"));
      return crossEntropy(logits, d.labels(), 10);
    }
  }

  @Test
  void movingAveragesTrainAndTheServedModelUsesThem() throws Exception {
    Cli r = train("bn");
    assertTrue(r.err().contains("batch norm: 17 layers train with batch statistics, moving "
        + "averages with momentum 0.99"), r.err());
    JsonNode j = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out());
    Path serving = tmp.resolve("bn").resolve("serving");
    Model served = SavedModelReader.read(serving);
    for (NodeDef n : served.graph().getNodeList()) {
      if (n.getOp().startsWith("FusedBatchNorm")) {
        assertFalse(n.getAttrOrThrow("is_training").getB(), n.getName());
      }
    }
    int moved = 0;
    for (String k : built.variables().keySet()) {
      if (k.contains("moving_")) {
        float[] a = TensorProtos.floats(built.variables().get(k));
        float[] b = TensorProtos.floats(served.variables().get(k));
        moved += java.util.Arrays.equals(a, b) ? 0 : 1;
      }
    }
    assertEquals(34, moved, "every moving mean and variance was updated");
    ServingCheck.Result check = ServingCheck.check(serving);
    assertTrue(check.passed(), check.reason());

    Dataset held = DataSets.load("digits", dev.dks.savedmodels.assets.SharedAssets.dataCacheDir())
        .split(0.2, 0).validation();
    double servedLoss = loss(served, held);
    double batchLoss = loss(dev.dks.trainers.graph.BatchNormTraining.trainingMode(served), held);
    double reported = j.get("test").get("loss").asDouble();
    System.out.printf("dks train's held-out loss %.6f; served model %.6f; with batch statistics "
        + "%.6f; test accuracy %.4f%n", reported, servedLoss, batchLoss,
        j.get("test").get("accuracy").asDouble());
    assertEquals(servedLoss, reported, 1e-4 * Math.max(1, servedLoss));
    assertTrue(Math.abs(batchLoss - reported) > 1e-3, "negative control: " + batchLoss);
  }

  @Test
  void frozenModeKeepsTheMovingAverages() throws Exception {
    Cli r = train("frozen", "--bn-mode", "frozen");
    assertFalse(r.err().contains("batch norm:"), r.err());
    Model served = SavedModelReader.read(tmp.resolve("frozen").resolve("serving"));
    for (String k : built.variables().keySet()) {
      if (k.contains("moving_")) {
        assertArrayEquals(TensorProtos.floats(built.variables().get(k)),
            TensorProtos.floats(served.variables().get(k)), 0f, k);
      }
    }
    Cli bad = Cli.run("train", model.toString(), "--data", "digits", "--steps", "1",
        "--bn-mode", "sometimes", "--out", tmp.resolve("bad").toString());
    assertEquals(2, bad.code(), bad.err());
    assertTrue(bad.err().contains("--bn-mode") && bad.err().contains("frozen"), bad.err());
  }
}
