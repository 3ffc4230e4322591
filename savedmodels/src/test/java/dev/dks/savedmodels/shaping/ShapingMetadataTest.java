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
import dev.dks.solver.solve.DksTargets;
import dev.dks.solver.solve.Method;
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
