package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.model.Model;
import dev.dks.savedmodels.export.ServingExporter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dks train MODEL --data D} with neither {@code --steps} nor {@code --epochs} trains one
 * epoch of whole batches, at least 300 steps (and, with a training batch norm, long enough for its
 * moving averages), and says so; lengths worked out by hand from the
 * synthetic sets' sizes (a tiny 2x2 MLP, so each run takes seconds).
 */
class TrainDefaultLengthTest {
  @TempDir static Path tmp;
  private static Path model;

  @BeforeAll
  static void buildModel() {
    Model m = ModelBuilder.build(ArchitectureSpec.builder(Architecture.MLP, 1).width(8)
        .input("2x2x1").classes(2).activation("tanh").seed(1).build()).model();
    model = tmp.resolve("tiny");
    ServingExporter.export(m, model);
  }

  @Test
  void anEpochLongerThan300StepsIsTheRun() {
    // 1,300 examples at batch 4: 325 whole batches, one epoch
    Cli r = Cli.run("train", model.toString(), "--data", "synthetic:2x2x1:2:1300", "--batch", "4",
        "--out", tmp.resolve("epoch").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().startsWith("trained 325 steps"), r.out());
    String stated = "of 325 steps (1 epoch of 325 steps; default length: one epoch, at least 300 "
        + "steps)";
    assertTrue(r.out().contains(stated), r.out());
    assertTrue(r.err().contains(stated), r.err());
  }

  @Test
  void aShortEpochIsRaisedTo300StepsAndTheScheduleFollows() {
    // 64 examples at batch 32: 2 batches an epoch, so 300 steps = 150 epochs, warm-up 10% = 30
    JsonNode j = Cli.json("train", model.toString(), "--data", "synthetic:2x2x1:2:64", "--batch",
        "32", "--out", tmp.resolve("floor").toString());
    assertEquals(300, j.get("steps").asLong(), j.toString());
    JsonNode s = j.get("settings");
    assertEquals(300, s.get("total_steps").asLong());
    assertEquals(30, s.get("warmup_steps").asLong());
    assertEquals("default", s.get("length").asText());
    assertEquals(2, s.get("steps_per_epoch").asLong());
    assertEquals(150.0, s.get("epochs").asDouble(), 0);
    assertTrue(defaults(s).contains("steps"), s.toString());
    // negative control: --epochs 1 is the two batches, and the length is not a default
    JsonNode one = Cli.json("train", model.toString(), "--data", "synthetic:2x2x1:2:64",
        "--batch", "32", "--epochs", "1", "--out", tmp.resolve("one").toString());
    assertEquals(2, one.get("steps").asLong());
    assertEquals("epochs", one.get("settings").get("length").asText());
    assertFalse(defaults(one.get("settings")).contains("steps"));
  }

  /**
   * A model whose batch norm trains runs until its moving averages (Keras's momentum 0.99) hold
   * under 0.1% of their start: 0.99^688 = 0.00099, 688 steps; with {@code --bn-mode frozen}
   * nothing moves, and the same data gives the plain 300 (negative control).
   */
  @Test
  void aTrainingBatchNormRunsUntilItsAveragesForgetTheirStart() {
    Path bn = tmp.resolve("tiny-bn");
    ServingExporter.export(ModelBuilder.build(ArchitectureSpec.builder(Architecture.PLAIN_CNN, 1)
        .width(2).input("2x2x1").classes(2).batchNorm(true).activation("relu").seed(1).build())
        .model(), bn);
    Cli r = Cli.run("train", bn.toString(), "--data", "synthetic:2x2x1:2:64", "--batch", "32",
        "--out", tmp.resolve("bn").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().startsWith("trained 688 steps"), r.out());
    assertTrue(r.err().contains("688 for batch norm's moving averages (momentum 0.99)"), r.err());
    JsonNode frozen = Cli.json("train", bn.toString(), "--data", "synthetic:2x2x1:2:64",
        "--batch", "32", "--bn-mode", "frozen", "--out", tmp.resolve("bn-frozen").toString());
    assertEquals(300, frozen.get("steps").asLong());
  }

  @Test
  void bothLengthFlagsAreRefused() {
    Cli.assertOneErrorLine(Cli.run("train", model.toString(), "--data", "synthetic:2x2x1:2:64",
        "--steps", "5", "--epochs", "1", "--out", tmp.resolve("both").toString()),
        "--steps", "--epochs", "not both");
  }

  private static List<String> defaults(JsonNode settings) {
    List<String> out = new ArrayList<>();
    settings.get("defaults").forEach(n -> out.add(n.asText()));
    return out;
  }
}
