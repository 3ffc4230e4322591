package dev.dks.savedmodels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.model.TensorSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * The frozen GraphDef reader: a built CNN frozen (its VariableV2 replaced by Consts) reads back
 * with the builder's input and output and computes the same function; corrupt or unfrozen files
 * fail with a {@link ModelFormatException} naming the file.
 */
class FrozenGraphReaderTest {
  @TempDir Path tmp;

  /** The model's graph with every VariableV2 replaced by a Const holding its value. */
  static GraphDef freeze(Model m) {
    GraphView g = GraphView.of(m.graph());
    for (NodeDef n : g.nodes()) {
      if (n.getOp().equals("VariableV2")) {
        g.put(Nodes.constant(n.getName(), m.variables().get(n.getName())));
      }
    }
    return g.toGraphDef();
  }

  private static Model cnn() {
    return ModelBuilder.build(ArchitectureSpec.builder(Architecture.PLAIN_CNN, 3).width(4)
        .batchNorm(true).build()).model();
  }

  private static float[] run(Model m, float[] x) {
    try (ModelSession s = new ModelSession(m)) {
      return TensorProtos.floats(s.run(Map.of("input", TensorProtos.ofFloats(
          new long[] {2, 28, 28, 1}, x)), List.of("logits")).get("logits"));
    }
  }

  @Test
  void frozenCnnReadsBackWithTheSameFunction() throws IOException {
    Model built = cnn();
    Path pb = tmp.resolve("cnn.pb");
    Files.write(pb, freeze(built).toByteArray());

    FrozenGraphReader.Result r = FrozenGraphReader.readDetailed(pb);
    Model m = r.model();
    assertTrue(r.warnings().isEmpty(), r.warnings().toString());
    assertTrue(m.variables().isEmpty());
    Signature s = m.signature(Signature.SERVING_DEFAULT);
    assertEquals(Signature.PREDICT_METHOD, s.methodName());
    assertEquals(List.of("input"), List.copyOf(s.inputs().keySet()));
    assertEquals(List.of("logits"), List.copyOf(s.outputs().keySet()));
    TensorSpec in = s.inputs().get("input");
    assertEquals(DataType.DT_FLOAT, in.dtype());
    assertArrayEquals(new long[] {-1, 28, 28, 1}, in.shape());
    TensorSpec out = s.outputs().get("logits");
    assertEquals("logits", out.tensor().node());
    assertEquals(0, out.tensor().index());
    assertEquals(DataType.DT_FLOAT, out.dtype());
    assertArrayEquals(new long[] {-1, 10}, out.shape());
    // weights stay Const
    assertTrue(m.graph().getNodeList().stream().noneMatch(n -> n.getOp().equals("VariableV2")));

    float[] x = new float[2 * 28 * 28];
    Random rnd = new Random(3);
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rnd.nextGaussian();
    }
    assertArrayEquals(run(built, x), run(m, x), 1e-6f);
    assertEquals(m.graph(), ModelReaders.read(pb).graph());
  }

  @Test
  void severalSinksAreAllOutputsWithAWarning() throws IOException {
    GraphView g = GraphView.of(freeze(cnn()));
    g.add(Nodes.op("Softmax", "probs").input("logits").type("T", DataType.DT_FLOAT).build());
    g.add(Nodes.op("Tanh", "extra").input("logits").type("T", DataType.DT_FLOAT).build());
    g.add(Nodes.op("Placeholder", "unused").type("dtype", DataType.DT_FLOAT).build());
    g.add(Nodes.op("Identity", "constant_sink").input("conv_0/kernel")
        .type("T", DataType.DT_FLOAT).build());
    Path pb = tmp.resolve("sinks.pb");
    Files.write(pb, g.toGraphDef().toByteArray());

    FrozenGraphReader.Result r = FrozenGraphReader.readDetailed(pb);
    assertEquals(List.of("probs", "extra"), List.copyOf(r.model().signatures().get(0).outputs()
        .keySet()));
    assertEquals(List.of("input"), r.model().inputNodes());
    String all = String.join("\n", r.warnings());
    assertTrue(all.contains("several sinks") && all.contains("'probs' (Softmax)"), all);
    assertTrue(all.contains("'unused'"), all);
    assertTrue(all.contains("'constant_sink'"), all);
    assertTrue(r.prunedNodes() >= 2, "the unused placeholder and the constant sink are pruned");
  }

  @Test
  void garbageFailsNamingTheFile() throws IOException {
    Path pb = tmp.resolve("garbage.pb");
    Files.writeString(pb, "this is not a graph\n");
    ModelFormatException e = assertThrows(ModelFormatException.class,
        () -> FrozenGraphReader.read(pb));
    assertTrue(e.getMessage().contains(pb.toAbsolutePath().toString()), e.getMessage());
    assertTrue(e.getMessage().contains("not a frozen GraphDef"), e.getMessage());

    Path empty = tmp.resolve("empty.pb");
    Files.write(empty, new byte[0]);
    e = assertThrows(ModelFormatException.class, () -> ModelReaders.read(empty));
    assertTrue(e.getMessage().contains("empty.pb") && e.getMessage().contains("no graph nodes"),
        e.getMessage());

    // random bytes: always a typed error, never a crash
    Random rnd = new Random(11);
    for (int i = 0; i < 20; i++) {
      byte[] b = new byte[1 + rnd.nextInt(400)];
      rnd.nextBytes(b);
      Path p = tmp.resolve("random" + i + ".pb");
      Files.write(p, b);
      assertThrows(ModelFormatException.class, () -> FrozenGraphReader.read(p), "random" + i);
    }
  }

  @Test
  void truncatedGraphFails() throws IOException {
    byte[] full = freeze(cnn()).toByteArray();
    Path pb = tmp.resolve("truncated.pb");
    Files.write(pb, java.util.Arrays.copyOf(full, full.length / 2));
    ModelFormatException e = assertThrows(ModelFormatException.class,
        () -> FrozenGraphReader.read(pb));
    assertTrue(e.getMessage().contains("truncated.pb"), e.getMessage());
  }

  @Test
  void graphWithVariablesIsNotFrozen() throws IOException {
    Path pb = tmp.resolve("unfrozen.pb");
    Files.write(pb, cnn().graph().toByteArray());
    ModelFormatException e = assertThrows(ModelFormatException.class,
        () -> FrozenGraphReader.read(pb));
    assertTrue(e.getMessage().contains("is not frozen") && e.getMessage().contains("VariableV2"),
        e.getMessage());
  }

  @Test
  void graphTensorFlowRejectsFails() throws IOException {
    GraphView g = GraphView.empty();
    g.add(Nodes.op("Placeholder", "x").type("dtype", DataType.DT_FLOAT).build());
    g.add(Nodes.op("NoSuchOpAnywhere", "y").input("x").build());
    Path pb = tmp.resolve("unknown_op.pb");
    Files.write(pb, g.toGraphDef().toByteArray());
    ModelFormatException e = assertThrows(ModelFormatException.class,
        () -> FrozenGraphReader.read(pb));
    assertTrue(e.getMessage().contains("unknown_op.pb") && e.getMessage().contains(
        "NoSuchOpAnywhere"), e.getMessage());
  }

  @Test
  void placeholderWithoutShapeHasUnknownShape() throws IOException {
    GraphView g = GraphView.empty();
    g.add(Nodes.op("Placeholder", "x").type("dtype", DataType.DT_FLOAT).build());
    g.add(Nodes.op("Relu", "y").input("x").type("T", DataType.DT_FLOAT).build());
    Path pb = tmp.resolve("relu.pb");
    Files.write(pb, g.toGraphDef().toByteArray());
    Model m = FrozenGraphReader.read(pb);
    assertNull(m.signatures().get(0).inputs().get("x").shape());
    assertEquals(List.of("y"), m.outputNodes());
  }

  /** The real frozen CIFAR model of the shared folder reads and runs. */
  @Test
  void realFrozenCifarModel() {
    Path pb = TestAssets.sharedModel("frozen_mlnet_cifar_model/frozen_model.pb");
    ModelReaders.Loaded l = ModelReaders.readDetailed(pb);
    assertEquals(ModelReaders.Format.FROZEN_GRAPH, l.format());
    Signature s = l.model().signatures().get(0);
    assertTrue(!s.inputs().isEmpty() && !s.outputs().isEmpty(), s.toString());
    Map<String, TensorProto> feeds = ModelRuns.randomFeeds(s, new Random(1), 2);
    try (ModelSession session = new ModelSession(l.model())) {
      Map<String, TensorProto> out = session.run(feeds, s.outputs().values().stream()
          .map(t -> t.tensor().toString()).toList());
      for (TensorProto t : out.values()) {
        for (float v : TensorProtos.floats(t)) {
          assertTrue(Float.isFinite(v));
        }
      }
    }
  }
}
