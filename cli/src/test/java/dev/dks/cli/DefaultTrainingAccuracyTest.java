package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dks.savedmodels.assets.SharedAssets;
import dev.dks.trainers.data.DataSets;
import dev.dks.trainers.data.Dataset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16's first goal, run as a user runs it: the README's {@code cnn} (its own {@code ./dks
 * build} line: 20 TAT-shaped leaky ReLU layers of width 16 with stride-2 convolutions every 4
 * layers) trained by {@code dks train cnn --data fashion-mnist --steps 300} with no optimizer
 * flag (so K-FAC with its defaults, on raw [0, 1] pixels) reaches at least 85% accuracy on all
 * 10,000 Fashion-MNIST test images, without divergence. The accuracy is recomputed from the
 * exported serving SavedModel by TensorFlow (a second method); negative control: the untrained
 * model's accuracy is far below the bound. About 130 s of CPU (the 1,500-step Nesterov run this
 * replaces took 380-480 s).
 */
@Tag("slow")
class DefaultTrainingAccuracyTest {
  private static final double GOAL = 0.85;

  @TempDir Path tmp;

  @Test
  void readmeCnnReaches85PercentIn300StepsWithNoOptimizerFlag() throws Exception {
    for (String f : List.of("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")) {
      Assets.dataCache("fashion-mnist/" + f);
    }
    Path model = tmp.resolve("cnn");
    Cli b = Cli.run(readmeBuildArguments(model));
    assertEquals(0, b.code(), b.err());

    Path out = tmp.resolve("run");
    JsonNode j = Cli.json("train", model.toString(), "--data", "fashion-mnist", "--steps", "300",
        "--out", out.toString());
    System.out.println("dks train: " + j.get("settings") + ", test " + j.get("test"));
    assertEquals("kfac", j.get("optimizer").asText(), "no optimizer flag on a TAT-shaped model");
    assertEquals(300, j.get("steps").asLong(), j.toString());
    assertEquals(10_000, j.get("test").get("examples").asInt(), j.toString());

    Dataset test = DataSets.load("fashion-mnist", SharedAssets.dataCacheDir(),
        DataSets.Part.TEST);
    double[] served = ServedEvaluation.accuracyAndLoss(out.resolve("serving"), test);
    double[] untrained = ServedEvaluation.accuracyAndLoss(model, test);
    System.out.printf("served accuracy %.4f (loss %.4f); reported %.4f; untrained %.4f%n",
        served[0], served[1], j.get("test").get("accuracy").asDouble(), untrained[0]);
    assertEquals(served[0], j.get("test").get("accuracy").asDouble(), 1e-3,
        "reported test accuracy against the served model's");
    assertTrue(served[0] >= GOAL, "test accuracy " + served[0] + " < " + GOAL);
    assertTrue(untrained[0] < GOAL - 0.3, "negative control: untrained " + untrained[0]);
  }

  /** The README's {@code ./dks build ... --out cnn} line, writing to {@code model} instead. */
  private static String[] readmeBuildArguments(Path model) throws Exception {
    List<String> lines = ReadmeCommandsTest.dksLines(
        Files.readAllLines(ReadmeCommandsTest.findReadme()));
    String line = lines.stream().filter(l -> l.contains(" build --arch plain-cnn ")
        && l.matches(".*--out cnn(\\s.*|$)")).findFirst().orElseThrow(() ->
            new AssertionError("README has no ./dks build --arch plain-cnn ... --out cnn line"));
    List<String> args = new ArrayList<>(Arrays.asList(line.replaceAll("#.*", "").trim()
        .split("\\s+")));
    args.remove(0); // ./dks
    args.set(args.indexOf("--out") + 1, model.toString());
    System.out.println("README: " + line);
    return args.toArray(String[]::new);
  }
}
