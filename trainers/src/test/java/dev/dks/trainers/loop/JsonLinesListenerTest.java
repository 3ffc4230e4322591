package dev.dks.trainers.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dks.trainers.graph.TrainingGraph;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Metrics as JSON lines, evaluations, and the progress bar on a short run. */
class JsonLinesListenerTest {
  private static final long N = 12;

  @Test
  void oneParsableLinePerStepWithTheRightKeys(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("metrics.jsonl");
    ByteArrayOutputStream progress = new ByteArrayOutputStream();
    EvaluationListener eval = new EvaluationListener(5, 40);
    try (TrainingGraph g = LoopFixtures.graph(LoopFixtures.model());
        PrintStream ps = new PrintStream(progress, true, StandardCharsets.UTF_8)) {
      TrainingOutcome o = LoopFixtures.trainer(g,
              BatchSource.of(LoopFixtures.batches(LoopFixtures.DATA_SEED)), N)
          .validation(LoopFixtures.validation())
          .listener(new DivergenceGuard()).listener(eval)
          .listener(new JsonLinesListener(file)).listener(new ProgressListener(ps, "train"))
          .build().run();
      assertEquals(TrainingOutcome.Status.COMPLETED, o.status());
      assertEquals(N, o.lastEvaluation().step());
    }
    ObjectMapper json = new ObjectMapper();
    List<JsonNode> steps = new ArrayList<>();
    List<JsonNode> evals = new ArrayList<>();
    List<String> lines = Files.readAllLines(file);
    for (String line : lines) {
      JsonNode n = json.readTree(line);
      switch (n.get("type").asText()) {
        case "step" -> steps.add(n);
        case "eval" -> evals.add(n);
        case "end" -> assertEquals("completed", n.get("status").asText());
        default -> throw new AssertionError(line);
      }
    }
    assertEquals(N, steps.size());
    for (int i = 0; i < N; i++) {
      JsonNode n = steps.get(i);
      assertEquals(Set.of("type", "step", "epoch", "loss", "accuracy", "lr", "seconds"),
          keys(n));
      assertEquals(i, n.get("step").asLong());
      assertEquals(i / 16, n.get("epoch").asLong()); // 256 examples / batch 16
      assertTrue(n.get("loss").isNumber() && Double.isFinite(n.get("loss").asDouble()));
      double acc = n.get("accuracy").asDouble();
      assertTrue(acc >= 0 && acc <= 1);
      assertTrue(n.get("seconds").asDouble() >= 0);
    }
    assertEquals(0.0, steps.get(0).get("lr").asDouble()); // warm-up starts at 0
    assertEquals(List.of(5L, 10L, 12L), evals.stream().map(e -> e.get("step").asLong()).toList());
    for (JsonNode e : evals) {
      assertEquals(Set.of("type", "step", "loss", "accuracy", "examples"), keys(e));
      assertEquals(96, e.get("examples").asInt());
    }
    assertEquals(eval.last().loss(), evals.get(2).get("loss").asDouble());
    String bar = progress.toString(StandardCharsets.UTF_8);
    assertTrue(bar.contains("train") && bar.contains("steps/s"), bar);
  }

  private static Set<String> keys(JsonNode n) {
    Set<String> s = new TreeSet<>();
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      s.add(it.next());
    }
    return s;
  }
}
