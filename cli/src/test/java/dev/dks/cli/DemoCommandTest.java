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
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dks demo --quick} end to end, in-process with real TF. The rewrite counts are checked
 * against the built BN-ResNet itself (its FusedBatchNormV3 nodes) and the published ResNet-18
 * layout (2+2+2+2 basic blocks, one residual merge each, 17 convolutions with an activation in
 * front in the v2 layout); the serving folder is reloaded by the serving check.
 */
class DemoCommandTest {
  @TempDir Path tmp;

  @Test
  void quickDemoRunsTheWholeWorkflow() throws Exception {
    Path out = tmp.resolve("demo");
    JsonNode j = Cli.json("demo", "--quick", "--no-fetch", "--out", out.toString());
    System.out.println(j.toPrettyString());
    String data = j.get("data").get("train").asText();
    int[] hwc = data.startsWith("fashion-mnist") ? new int[] {28, 28, 1} : new int[] {8, 8, 1};
    Model built = ModelBuilder.build(ArchitectureSpec.builder(Architecture.RESNET, 18).width(4)
        .input(hwc[0] + "x" + hwc[1] + "x" + hwc[2]).classes(10).batchNorm(true)
        .activation("relu").seed(0).build()).model();
    long bns = built.graph().getNodeList().stream()
        .filter(n -> n.getOp().equals("FusedBatchNormV3")).count();
    JsonNode rw = j.get("rewrite");
    assertEquals(bns, rw.get("strip-norm").asLong(), "every BN removed");
    assertEquals(8, rw.get("skips").asInt(), "ResNet-18: 8 residual merges");
    assertEquals(17, rw.get("shape-activations").asInt(), "ResNet-18 v2: 17 activations");
    JsonNode runs = j.get("runs");
    assertEquals(2, runs.size());
    for (JsonNode r : runs) {
      assertEquals("completed", r.get("status").asText(), r.toString());
      assertEquals(20, r.get("steps").asInt());
      assertTrue(Double.isFinite(r.get("train_loss").asDouble()), r.toString());
      assertTrue(r.get("test_accuracy").asDouble() >= 0 && r.get("test_accuracy").asDouble() <= 1);
    }
    assertEquals("kfac", runs.get(0).get("optimizer").asText());
    assertTrue(j.get("serving").get("passed").asBoolean(), j.get("serving").toString());
    assertTrue(j.get("kernel_check").get("passed").asBoolean(), j.get("kernel_check").toString());
    BufferedImage png = ImageIO.read(Path.of(j.get("plot").asText()).toFile());
    assertEquals(1200, png.getWidth());
    JsonNode marker = new ObjectMapper().readTree(out.resolve(DemoCommand.MARKER).toFile());
    assertEquals(j, marker);
    // a second run replaces the earlier demo instead of refusing the folder
    Cli again = Cli.run("demo", "--quick", "--no-fetch", "--steps", "2", "--out", out.toString(),
        "--json");
    assertEquals(0, again.code(), again.err());
    assertArrayEquals(new String[] {"bn-resnet", "bn-resnet-metrics.jsonl", "curves.png",
        "demo.json", "plain", "plain-metrics.jsonl", "serving"},
        Files.list(out).map(p -> p.getFileName().toString()).sorted().toArray(String[]::new));
    assertTrue(Arrays.stream(again.out().split("\n")).anyMatch(l -> l.contains("\"steps\" : 2")
        || l.contains("\"steps\":2")), again.out());
  }
}
