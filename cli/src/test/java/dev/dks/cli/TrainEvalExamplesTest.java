package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.savedmodels.assets.SharedAssets;
import dev.dks.savedmodels.export.ServingExporter;
import dev.dks.trainers.data.BatchIterator;
import dev.dks.trainers.data.DataSets;
import dev.dks.trainers.data.Dataset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dks train}'s test evaluation: {@code --eval-examples N} evaluates a seeded random N of
 * the test part, and the evaluation after the last step is run once. The reported test loss
 * and accuracy are recomputed from the exported serving model on the N examples the flag's rule
 * picks (the whole part gives another loss: negative control); a resumed run with no steps left,
 * whose evaluation is a fresh one, reports the same numbers as the listener's.
 */
class TrainEvalExamplesTest {
  @TempDir Path tmp;

  @Test
  void evaluatesTheSameSeededRandomSubsetOnceAfterTheLastStep() throws Exception {
    Assets.dataCache("digits/digits.csv.gz");
    Path model = tmp.resolve("mlp");
    ServingExporter.export(ModelBuilder.build(ArchitectureSpec.builder(Architecture.MLP, 2)
        .width(32).input("8x8x1").classes(10).activation("tanh").seed(3).build()).model(),
        model);
    Path out = tmp.resolve("run");
    List<String> args = List.of("train", model.toString(), "--data", "digits", "--optimizer",
        "nesterov", "--lr", "0.05", "--steps", "30", "--batch", "32", "--eval-every", "10",
        "--eval-examples", "50", "--seed", "5", "--out", out.toString());
    JsonNode j = Cli.json(args.toArray(String[]::new));
    JsonNode test = j.get("test");
    assertEquals(50, test.get("examples").asInt(), j.toString());

    // one evaluation per 10 steps, each on the 50 examples; none added after the run
    List<JsonNode> evals = new ArrayList<>();
    ObjectMapper om = new ObjectMapper();
    for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
      JsonNode n = om.readTree(line);
      if (n.get("type").asText().equals("eval")) {
        evals.add(n);
      }
    }
    assertEquals(List.of(10L, 20L, 30L), evals.stream().map(n -> n.get("step").asLong())
        .toList());
    evals.forEach(n -> assertEquals(50, n.get("examples").asInt(), n.toString()));
    assertEquals(test.get("loss").asDouble(), evals.get(2).get("loss").asDouble(), 1e-9);

    // the rule of the flag, applied here: digits has no test part, so the part evaluated is the
    // seeded 20% split; of it the first 50 of a permutation seeded with --seed
    Dataset heldOut = DataSets.load("digits", SharedAssets.dataCacheDir()).split(0.2, 5)
        .validation();
    int[] pick = Arrays.copyOf(BatchIterator.permutation(heldOut.size(),
        new SplittableRandom(5)), 50);
    Arrays.sort(pick);
    double[] served = ServedEvaluation.accuracyAndLoss(out.resolve("serving"),
        heldOut.subset(pick, "picked"));
    double[] whole = ServedEvaluation.accuracyAndLoss(out.resolve("serving"), heldOut);
    System.out.printf("reported loss %.6f accuracy %.4f; served on the 50: %.6f / %.4f; on all "
        + "%d: %.6f / %.4f%n", test.get("loss").asDouble(), test.get("accuracy").asDouble(),
        served[1], served[0], heldOut.size(), whole[1], whole[0]);
    assertEquals(served[1], test.get("loss").asDouble(), 1e-4, "loss on the picked 50");
    assertEquals(served[0], test.get("accuracy").asDouble(), 2.0 / 50, "accuracy on the picked 50");
    assertTrue(Math.abs(whole[1] - served[1]) > 1e-3,
        "negative control: the whole held-out part's loss " + whole[1]);

    // resumed at its last step: no step runs, so the listener evaluates nothing and the command
    // evaluates afresh; same variables, same examples, same numbers
    List<String> resume = new ArrayList<>(args);
    resume.add("--resume");
    JsonNode again = Cli.json(resume.toArray(String[]::new));
    assertEquals(0, again.get("steps_this_run").asLong(), again.toString());
    assertEquals(50, again.get("test").get("examples").asInt());
    assertEquals(test.get("loss").asDouble(), again.get("test").get("loss").asDouble(), 1e-6);
    assertEquals(test.get("accuracy").asDouble(), again.get("test").get("accuracy").asDouble(),
        1e-9);
  }

  @Test
  void refusesANegativeCount() {
    Cli.assertOneErrorLine(Cli.run("train", tmp.resolve("none").toString(), "--data", "digits",
        "--steps", "1", "--eval-examples", "-1"), "--eval-examples");
  }
}
