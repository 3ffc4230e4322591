package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.savedmodels.export.ServingExporter;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dks train --cluster FILE --task T:I} refuses a cluster it cannot use with exit 2 and one
 * {@code dks: error:} line, before any TF server starts and before anything is written (the
 * distributed runs themselves are DistributedTrainingTest's, in the trainers module).
 */
class TrainClusterFlagsTest {
  @TempDir static Path tmp;
  private static Path model;

  @BeforeAll
  static void buildModel() {
    model = tmp.resolve("mlp");
    ServingExporter.export(ModelBuilder.build(ArchitectureSpec.builder(Architecture.MLP, 2)
        .width(8).input("8x8x1").classes(10).seed(3).build()).model(), model);
  }

  private static Cli train(String cluster, String... flags) throws IOException {
    Path file = Files.createTempFile(tmp, "cluster", ".json");
    Files.writeString(file, cluster);
    List<String> args = new ArrayList<>(List.of("train", model.toString(), "--data",
        "synthetic:8x8x1:10:64", "--steps", "2", "--out", tmp.resolve("out").toString(),
        "--cluster", file.toString()));
    args.addAll(Arrays.asList(flags));
    if (!args.contains("--batch")) {
      args.addAll(List.of("--batch", "8"));
    }
    return Cli.run(args.toArray(String[]::new));
  }

  private static void assertRefused(Cli r, String fragment) {
    assertEquals(2, r.code(), r.err());
    List<String> lines = r.err().lines().filter(l -> l.startsWith("dks: error:")).toList();
    assertEquals(1, lines.size(), r.err());
    assertTrue(lines.get(0).contains(fragment), r.err());
    assertFalse(r.err().contains("serving on"), "no server may start: " + r.err());
    assertFalse(Files.exists(tmp.resolve("out")), "nothing written");
  }

  @Test
  void badSpecsAreOneLineBeforeAnyServer() throws IOException {
    int free;
    try (ServerSocket s = new ServerSocket(0)) {
      free = s.getLocalPort();
    }
    String two = "{\"worker\": [\"localhost:" + free + "\", \"localhost:" + (free == 65535 ? 1
        : free + 1) + "\"]}";
    assertRefused(train("{\"worker\": [\"a:1\",", "--task", "worker:0"), "malformed JSON");
    assertRefused(train(two, "--task", "worker:2"), "task index 2 is out of range");
    assertRefused(train(two, "--task", "ps:0"), "unknown task type 'ps'");
    assertRefused(train("{\"worker\": [\"h:5\", \"h:5\"]}", "--task", "worker:0"),
        "duplicate address h:5");
    assertRefused(train(two, "--task", "worker:0", "--batch", "7"), "does not split evenly");
    assertRefused(train(two), "needs --task");
    try (ServerSocket busy = new ServerSocket(0)) {
      assertRefused(train("{\"worker\": [\"localhost:" + busy.getLocalPort() + "\"]}", "--task",
          "worker:0"), "cannot listen on port " + busy.getLocalPort());
    }
  }
}
