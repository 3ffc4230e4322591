package dev.dks.savedmodels.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.savedmodels.SavedModelReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.TensorProto;

/** Exported folders honour the serving contract; broken folders fail the check with a reason. */
class ServingExportTest {
  @TempDir
  Path tmp;

  private static Model smallCnn() {
    return ModelBuilder.build(ArchitectureSpec.builder(Architecture.PLAIN_CNN, 3).width(8)
        .batchNorm(true).input("8x8x3").build()).model();
  }

  private static float[] runModel(Model m, TensorProto x) {
    String in = m.signatures().get(0).inputs().values().iterator().next().tensor().toString();
    String out = m.signatures().get(0).outputs().values().iterator().next().tensor().toString();
    try (ModelSession s = new ModelSession(m)) {
      return TensorProtos.floats(s.run(Map.of(in, x), List.of(out)).get(out));
    }
  }

  @Test
  void exportedModelLoadsWithServeTagAndComputesTheSameOutputs() throws IOException {
    Model m = smallCnn();
    Path dir = tmp.resolve("served");
    ServingExporter.export(m, dir);
    ServingCheck.Result r = ServingCheck.check(dir);
    assertTrue(r.passed(), r.reason());
    SavedModel sm = SavedModel.parseFrom(Files.readAllBytes(dir.resolve("saved_model.pb")));
    MetaGraphDef meta = sm.getMetaGraphs(0);
    assertEquals(List.of("serve"), meta.getMetaInfoDef().getTagsList());
    assertEquals("tensorflow/serving/predict",
        meta.getSignatureDefOrThrow("serving_default").getMethodName());
    for (NodeDef n : meta.getGraphDef().getNodeList()) {
      assertFalse(n.getOp().equals("VarHandleOp"), n.getName());
      if (n.getOp().equals("Const")) {
        TensorProto t = n.getAttrOrThrow("value").getTensor();
        assertTrue(t.getTensorContent().size() < 1024, "weights as a constant: " + n.getName());
      }
    }
    float[] x = new float[8 * 8 * 3];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) Math.sin(i);
    }
    TensorProto in = TensorProtos.ofFloats(new long[] {1, 8, 8, 3}, x);
    float[] want = runModel(m, in);
    Model back = SavedModelReader.read(dir, "serve");
    assertArrayEquals(want, runModel(back, in), 0f);
    try (SavedModelBundle b = SavedModelBundle.load(dir.toString(), "serve")) {
      assertTrue(b.metaGraphDef().getSignatureDefMap().containsKey("serving_default"));
    }
    try (Stream<Path> s = Files.list(tmp)) {
      assertEquals(List.of(dir), s.toList(), "no temporary folder left behind");
    }
  }

  @Test
  void refusesANonEmptyTargetAndNonStandardOps() throws IOException {
    Path full = Files.createDirectories(tmp.resolve("full"));
    Files.writeString(full.resolve("x"), "x");
    assertThrows(ExportException.class, () -> ServingExporter.export(smallCnn(), full));
    Model m = smallCnn();
    GraphView g = GraphView.of(m.graph());
    String out = m.outputNodes().get(0);
    NodeDef o = g.get(out);
    g.put(o.toBuilder().setOp("_MklIdentity").build());
    Model bad = m.with(g.toGraphDef(), m.variables());
    ExportException e = assertThrows(ExportException.class,
        () -> ServingExporter.export(bad, tmp.resolve("bad")));
    assertTrue(e.getMessage().contains(out), e.getMessage());
    assertFalse(Files.exists(tmp.resolve("bad")));
  }

  @Test
  void brokenFoldersFailTheCheckWithAReason() throws IOException {
    Path dir = tmp.resolve("ok");
    ServingExporter.export(smallCnn(), dir);
    byte[] pb = Files.readAllBytes(dir.resolve("saved_model.pb"));

    Path noVars = copy(dir, "no_vars");
    deleteTree(noVars.resolve("variables"));
    assertFails(noVars, "");

    Path truncated = copy(dir, "truncated");
    Files.write(truncated.resolve("saved_model.pb"), java.util.Arrays.copyOf(pb, pb.length / 2));
    assertFails(truncated, "load");

    Path garbage = copy(dir, "garbage");
    Files.write(garbage.resolve("saved_model.pb"), new byte[] {1, 2, 3, 4, 5, 6, 7});
    assertFails(garbage, "load");

    SavedModel sm = SavedModel.parseFrom(pb);
    Path wrongTag = copy(dir, "wrong_tag");
    Files.write(wrongTag.resolve("saved_model.pb"), sm.toBuilder().setMetaGraphs(0,
        sm.getMetaGraphs(0).toBuilder().setMetaInfoDef(sm.getMetaGraphs(0).getMetaInfoDef()
            .toBuilder().clearTags().addTags("train"))).build().toByteArray());
    assertFails(wrongTag, "serve");

    Path noDefault = copy(dir, "no_default");
    MetaGraphDef.Builder meta = sm.getMetaGraphs(0).toBuilder();
    var sig = meta.getSignatureDefOrThrow("serving_default");
    meta.removeSignatureDef("serving_default").putSignatureDef("other", sig);
    Files.write(noDefault.resolve("saved_model.pb"), sm.toBuilder().setMetaGraphs(0, meta).build()
        .toByteArray());
    assertFails(noDefault, "serving_default");

    Path noMethod = copy(dir, "no_method");
    MetaGraphDef.Builder meta2 = sm.getMetaGraphs(0).toBuilder();
    meta2.putSignatureDef("serving_default", sig.toBuilder().setMethodName("").build());
    Files.write(noMethod.resolve("saved_model.pb"), sm.toBuilder().setMetaGraphs(0, meta2).build()
        .toByteArray());
    assertFails(noMethod, "tensorflow/serving/predict");
  }

  private static void assertFails(Path dir, String mention) {
    ServingCheck.Result r = ServingCheck.check(dir);
    assertFalse(r.passed(), dir + " passed");
    assertFalse(r.reason().isBlank());
    assertTrue(r.reason().contains(mention), r.reason());
  }

  private Path copy(Path src, String name) throws IOException {
    Path dst = tmp.resolve(name);
    try (Stream<Path> s = Files.walk(src)) {
      for (Path p : s.toList()) {
        Path q = dst.resolve(src.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(q);
        } else {
          Files.copy(p, q);
        }
      }
    }
    return dst;
  }

  private static void deleteTree(Path p) throws IOException {
    try (Stream<Path> s = Files.walk(p)) {
      for (Path q : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(q);
      }
    }
  }

}
