package dev.dks.savedmodels.shaping;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.BuiltModel;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.savedmodels.ModelFormatException;
import dev.dks.savedmodels.export.ExportException;
import dev.dks.savedmodels.export.ServingCheck;
import dev.dks.savedmodels.export.ServingExporter;
import dev.dks.savedmodels.export.TrainingExporter;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.network.Dag;
import dev.dks.solver.network.NetworkMaps;
import dev.dks.solver.solve.DksTargets;
import dev.dks.solver.solve.Method;
import dev.dks.solver.solve.ShapingSolution;
import dev.dks.solver.solve.ShapingSolver;
import dev.dks.solver.solve.TatTargets;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.SavedModelBundle;

/**
 * The shaping record's JSON form and its place in the SavedModel folder, with a real shaped
 * build and the real TF loader: the record round-trips exactly, the exporters write it into
 * {@code assets.extra/} within their atomic write, {@code SavedModelBundle.load} and the serving
 * check still load the folder, and broken or newer records are refused naming the file.
 */
class ShapingMetadataTest {
  @TempDir static Path tmp;
  private static BuiltModel built;
  private static ShapingMetadata record;

  @BeforeAll
  static void build() {
    built = ModelBuilder.build(ArchitectureSpec.builder(Architecture.MLP, 3).width(8)
        .activation("tanh").shaped(Method.DKS).input("1x1x4").build());
    record = ShapingRecorder.record(built.model(), "build", "dks test", Method.DKS,
        DksTargets.ofZeta(1.5), TatTargets.defaults(), built.shaping(), null, null);
  }

  @Test
  void recordsWhatTheBuildSolvedAndFoundInTheGraph() {
    assertEquals(Map.of("zeta", 1.5, "local_q_slope", 1.0), record.targets());
    assertEquals(3, record.structureDepth());
    assertEquals(3, record.sites().size());
    record.sites().forEach(s -> assertEquals("tanh", s.kind(), s.node()));
    assertEquals(built.activationParams().asMap(),
        record.activation("tanh").orElseThrow().params());
    assertEquals(List.of("tanh"), record.activations().stream()
        .map(ShapingMetadata.ShapedEntry::activation).toList());
    assertEquals(1.5, record.dksTargets().orElseThrow().zeta());
    assertTrue(record.tatTargets().isEmpty());
  }

  @Test
  void jsonRoundTripsExactly() {
    byte[] json = ShapingMetadataJson.write(record);
    assertEquals(record, ShapingMetadataJson.parse(json, "x.json"));
    String text = new String(json, StandardCharsets.UTF_8);
    assertTrue(text.contains("\"format\" : \"dks-shaping\""), text);
    assertTrue(text.contains("\"version\" : 1"), text);
    ShapingMetadata trained = record.withTrainedSteps(7);
    assertEquals(trained, ShapingMetadataJson.parse(ShapingMetadataJson.write(trained), "y"));
    assertFalse(trained.equals(record), "the step count is part of the record");
  }

  /**
   * On a network with depthwise chains (4 blocks of two layers joined by a depthwise conv, 8
   * layers) {@code local_target} stays the solve's per-layer target with every layer taken as
   * Gaussian, xi = zeta^(1/8) in closed form, and the activation's own xi under the chains' maps
   * (its network C'(1) is zeta there, not with xi) is the separate {@code
   * chain_matched_local_target}, which round-trips; a record without chains writes it as null.
   */
  @Test
  void chainMatchedTargetIsItsOwnKeyAndLocalTargetKeepsItsMeaning() {
    Dag.Builder b = Dag.builder();
    int x = b.input();
    Map<Integer, int[]> chains = new java.util.HashMap<>();
    for (int i = 0; i < 4; i++) {
      int first = b.layer(x);
      int second = b.layer(b.affine(first));
      chains.put(second, new int[] {first, second});
      x = b.affine(second);
    }
    ShapingSolution s = ShapingSolver.solve(Method.DKS, List.of(Activations.byName("tanh")),
        NetworkMaps.of(b.build().withChains(chains)), DksTargets.ofZeta(1.5),
        TatTargets.defaults());
    ShapingMetadata chained = ShapingRecorder.record(built.model(), "rewrite", "dks test",
        Method.DKS, DksTargets.ofZeta(1.5), TatTargets.defaults(), s, 0.0, null);
    assertEquals(Math.pow(1.5, 1.0 / 8), chained.localTarget(), 1e-8); // bisection tolerance
    double matched = chained.activation("tanh").orElseThrow().chainMatchedTarget();
    assertEquals(s.get("tanh").chainMatchedTarget(), matched, 0.0);
    assertTrue(Math.abs(matched - chained.localTarget()) > 1e-4,
        "the chains change the per-layer target: " + matched);
    assertEquals(1.5, s.get("tanh").network().cSlope1(), 1e-9);
    byte[] json = ShapingMetadataJson.write(chained);
    assertEquals(chained, ShapingMetadataJson.parse(json, "c.json"));
    assertTrue(new String(json, StandardCharsets.UTF_8)
        .contains("\"chain_matched_local_target\" : " + matched));
    assertTrue(new String(ShapingMetadataJson.write(record), StandardCharsets.UTF_8)
        .contains("\"chain_matched_local_target\" : null"));
    assertTrue(Double.isNaN(record.activation("tanh").orElseThrow().chainMatchedTarget()));
  }

  @Test
  void unknownKeysAreIgnoredAndBrokenRecordsRefusedNamingTheFile() {
    String good = new String(ShapingMetadataJson.write(record), StandardCharsets.UTF_8);
    String extra = good.replaceFirst("\\{", "{\"a_later_key\": [1, 2],");
    assertEquals(record, ShapingMetadataJson.parse(bytes(extra), "f"));
    Map<String, String> broken = Map.of(
        good.replace("\"dks-shaping\"", "\"other\""), "\"format\"",
        good.replace("\"version\" : 1", "\"version\" : 2"), "newer dks",
        good.replace("\"version\" : 1", "\"version\" : \"1\""), "positive integer",
        good.replace("\"DKS\"", "\"XYZ\""), "unknown method",
        good.replaceFirst("\"input_scale\" : [^,]+", "\"input_scale\" : \"big\""),
        "params\".input_scale must be a number",
        "[1, 2]", "not a JSON object",
        "{\"format\": ", "not valid JSON");
    broken.forEach((text, fragment) -> {
      ModelFormatException e = assertThrows(ModelFormatException.class,
          () -> ShapingMetadataJson.parse(bytes(text), "/m/assets.extra/dks-shaping.json"));
      assertTrue(e.getMessage().startsWith("/m/assets.extra/dks-shaping.json: "), e.getMessage());
      assertTrue(e.getMessage().contains(fragment), fragment + " in " + e.getMessage());
    });
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void servingExportWritesItAndTfStillLoadsTheFolder() throws IOException {
    Path dir = tmp.resolve("serving");
    ServingExporter.export(built.model(), dir, ShapingMetadataFiles.assetsExtra(record));
    Path f = dir.resolve("assets.extra").resolve("dks-shaping.json");
    assertEquals(f, ShapingMetadataFiles.find(dir).orElseThrow());
    assertArrayEquals(ShapingMetadataJson.write(record), Files.readAllBytes(f));
    assertEquals(record, ShapingMetadataFiles.read(dir).orElseThrow());
    assertEquals(record, ShapingMetadataFiles.read(dir.resolve("saved_model.pb")).orElseThrow(),
        "a saved_model.pb path stands for its folder");
    try (SavedModelBundle b = SavedModelBundle.load(dir.toString(), "serve")) {
      assertTrue(b.metaGraphDef().getSignatureDefMap().containsKey("serving_default"));
    }
    ServingCheck.Result r = ServingCheck.check(dir);
    assertTrue(r.passed(), r.reason());
  }

  @Test
  void trainingExportWritesItAndBothMetaGraphsLoad() {
    Path dir = tmp.resolve("training");
    TrainingExporter.export(built.model(), dir, ShapingMetadataFiles.assetsExtra(record));
    assertEquals(record, ShapingMetadataFiles.read(dir).orElseThrow());
    try (SavedModelBundle b = SavedModelBundle.load(dir.toString(), "serve", "train")) {
      assertFalse(b.metaGraphDef().getGraphDef().getNodeList().isEmpty());
    }
    try (SavedModelBundle b = SavedModelBundle.load(dir.toString(), "serve")) {
      assertTrue(b.metaGraphDef().getSignatureDefMap().containsKey("serving_default"));
    }
  }

  @Test
  void noRecordMeansNoAssetsExtraAndABadNameWritesNothing() throws IOException {
    Path plain = tmp.resolve("plain");
    ServingExporter.export(built.model(), plain);
    assertFalse(Files.exists(plain.resolve("assets.extra")));
    assertTrue(ShapingMetadataFiles.read(plain).isEmpty());
    assertTrue(ShapingMetadataFiles.read(tmp.resolve("not-a-model")).isEmpty());

    Path parent = Files.createDirectories(tmp.resolve("bad-name"));
    Path target = parent.resolve("m");
    ExportException e = assertThrows(ExportException.class, () -> ServingExporter.export(
        built.model(), target, Map.of("../escape.json", new byte[] {1})));
    assertTrue(e.getMessage().contains("../escape.json"), e.getMessage());
    try (Stream<Path> s = Files.list(parent)) {
      assertEquals(List.of(), s.toList(), "nothing written, no temp folder left");
    }
  }

  @Test
  void aBrokenRecordInAFolderIsRefusedNamingIt() throws IOException {
    Path dir = tmp.resolve("broken");
    ServingExporter.export(built.model(), dir, Map.of("dks-shaping.json",
        bytes("{\"format\": \"dks-shaping\", \"version\": 1}")));
    ModelFormatException e = assertThrows(ModelFormatException.class,
        () -> ShapingMetadataFiles.read(dir));
    assertTrue(e.getMessage().contains(dir.resolve("assets.extra/dks-shaping.json").toString()),
        e.getMessage());
    assertTrue(e.getMessage().contains("\"method\""), e.getMessage());
  }
}
