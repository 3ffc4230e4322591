package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.BuiltModel;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.activation.ShapingParams;
import dev.dks.solver.network.Architectures;
import dev.dks.solver.network.NetworkMaps;
import dev.dks.solver.solve.DksTargets;
import dev.dks.solver.solve.Method;
import dev.dks.solver.solve.ShapingSolver;
import dev.dks.solver.solve.TatTargets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.types.TFloat32;

/**
 * {@code dks build} in-process: the folder it writes loads with {@code SavedModelBundle.load(dir,
 * "serve")}, and its {@code serving_default} computes what the builder's model computes.
 */
class BuildCommandTest {
  @TempDir Path tmp;

  /** Runs serving_default of the SavedModel at {@code dir} on {@code x} [n, h, w, c]. */
  private static float[] serve(Path dir, float[] x, long... shape) {
    try (SavedModelBundle b = SavedModelBundle.load(dir.toString(), "serve");
        TFloat32 in = TFloat32.tensorOf(Shape.of(shape), DataBuffers.of(x, true, false));
        Result r = b.function("serving_default").call(Map.of("input", in))) {
      SignatureDef sig = b.metaGraphDef().getSignatureDefOrThrow("serving_default");
      assertEquals("tensorflow/serving/predict", sig.getMethodName());
      assertEquals("input:0", sig.getInputsOrThrow("input").getName());
      assertEquals("logits:0", sig.getOutputsOrThrow("logits").getName());
      for (NodeDef n : b.metaGraphDef().getGraphDef().getNodeList()) {
        assertFalse(n.getOp().equals("VarHandleOp"), n.getName());
        // the serving exporter writes the graph, not a session's: no value-setting ops
        assertFalse(n.getName().startsWith("dks_assign"), n.getName());
      }
      TFloat32 y = (TFloat32) r.get("logits").orElseThrow();
      float[] out = new float[(int) y.shape().size()];
      y.copyTo(DataBuffers.of(out, false, false));
      assertEquals(2, y.shape().get(0));
      return out;
    }
  }

  private static float[] direct(ArchitectureSpec spec, float[] x, long... shape) {
    BuiltModel m = ModelBuilder.build(spec);
    try (ModelSession s = new ModelSession(m.model())) {
      TensorProto in = TensorProtos.ofFloats(shape, x);
      return TensorProtos.floats(s.run(Map.of("input", in), List.of("logits")).get("logits"));
    }
  }

  @Test
  void writesALoadableSavedModel() throws IOException {
    Path out = tmp.resolve("r18");
    Cli r = Cli.run("build", "--arch", "resnet", "--depth", "18", "--width", "4", "--bn",
        "--input", "32x32x3", "--out", out.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("written to " + out.toAbsolutePath()), r.out());
    assertTrue(r.out().contains("17 bn") && r.out().contains("8 merge"), r.out());
    assertTrue(Files.isRegularFile(out.resolve("saved_model.pb")));
    assertTrue(Files.isRegularFile(out.resolve("variables/variables.index")));
    try (Stream<Path> s = Files.list(tmp)) {
      assertEquals(List.of(out), s.toList(), "no temporary folder left beside the output");
    }
    Cli check = Cli.run("check-serving", out.toString());
    assertEquals(0, check.code(), check.out() + check.err());

    float[] zeros = new float[2 * 32 * 32 * 3];
    float[] y0 = serve(out, zeros, 2, 32, 32, 3);
    assertEquals(20, y0.length);
    for (float v : y0) {
      assertTrue(Float.isFinite(v));
    }
    Random rnd = new Random(1);
    float[] x = new float[zeros.length];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rnd.nextGaussian();
    }
    ArchitectureSpec spec = ArchitectureSpec.builder(Architecture.RESNET, 18).width(4)
        .batchNorm(true).input("32x32x3").build();
    assertArrayEquals(direct(spec, x, 2, 32, 32, 3), serve(out, x, 2, 32, 32, 3), 1e-5f);
  }

  @Test
  void tatBuildWithoutActivationShapesLeakyRelu() {
    // TAT shapes the ReLU family as leaky ReLU; plain relu (the unshaped default) has no slope
    // to solve for, so a TAT build with no --activation must take leaky_relu, not be refused
    JsonNode j = Cli.json("build", "--arch", "plain-cnn", "--depth", "20", "--width", "4",
        "--shaped", "--method", "TAT", "--out", tmp.resolve("tat").toString());
    ShapingParams p = ShapingSolver.solve(Method.TAT, List.of(Activations.byName("leaky_relu")),
        NetworkMaps.of(Architectures.plainChain(20)), DksTargets.defaults(),
        TatTargets.defaults()).get("leaky_relu").params();
    assertEquals("TAT", j.get("method").asText());
    assertEquals(p.outputScale(), j.get("params").get("output_scale").asDouble(), 1e-12);
    // control: the unshaped build keeps relu, whose record has no solved parameters
    JsonNode raw = Cli.json("build", "--arch", "plain-cnn", "--depth", "20", "--width", "4",
        "--out", tmp.resolve("raw").toString());
    assertTrue(raw.get("params") == null || raw.get("params").isNull()
        || raw.get("params").isEmpty(), raw.toString());
  }

  @Test
  void shapedBuildWithJson() throws IOException {
    Path out = tmp.resolve("cnn");
    Files.createDirectories(out); // an existing empty folder is fine
    JsonNode j = Cli.json("build", "--arch", "plain-cnn", "--depth", "6", "--width", "8",
        "--activation", "tanh", "--shaped", "--method", "DKS", "--pooling", "avg",
        "--seed", "3", "--out", out.toString());
    ShapingParams p = ShapingSolver.solve(Method.DKS, List.of(Activations.byName("tanh")),
        NetworkMaps.of(Architectures.plainChain(6)), DksTargets.defaults(),
        TatTargets.defaults()).get("tanh").params();
    assertEquals("plain-cnn", j.get("arch").asText());
    assertEquals("DKS", j.get("method").asText());
    assertEquals(p.inputScale(), j.get("params").get("input_scale").asDouble(), 0);
    assertEquals(p.outputScale(), j.get("params").get("output_scale").asDouble(), 0);
    // 6 convs [3,3,c,8] + biases, head [8,10] + bias
    long params = 3 * 3 * 1 * 8 + 8 + 5 * (3 * 3 * 8 * 8 + 8) + 8 * 10 + 10;
    assertEquals(params, j.get("parameters").asLong());
    assertEquals(6, j.get("layer_counts").get("activation").asInt());
    assertEquals(2 + 1, j.get("layer_counts").get("pool").asInt(), "2 avg pools + global mean");
    assertEquals(out.toAbsolutePath().toString(), j.get("out").asText());
    assertEquals("conv_0", j.get("layers").get(0).get("name").asText());
    assertEquals("conv", j.get("layers").get(0).get("kind").asText());

    ArchitectureSpec spec = ArchitectureSpec.builder(Architecture.PLAIN_CNN, 6).width(8)
        .activation("tanh").shaped(Method.DKS).pooling(dev.dks.rewriter.builder.Pooling.every(
            dev.dks.rewriter.builder.Pooling.Kind.AVG_POOL, 2)).seed(3).build();
    // random non-zero inputs exercise every layer; negative control: the same build without
    // --shaped (raw tanh, same seed) computes clearly different logits
    Random rnd = new Random(2);
    float[] x = new float[2 * 28 * 28];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rnd.nextGaussian();
    }
    float[] y = serve(out, x, 2, 28, 28, 1);
    assertArrayEquals(direct(spec, x, 2, 28, 28, 1), y, 1e-5f);
    ArchitectureSpec raw = ArchitectureSpec.builder(Architecture.PLAIN_CNN, 6).width(8)
        .activation("tanh").pooling(dev.dks.rewriter.builder.Pooling.every(
            dev.dks.rewriter.builder.Pooling.Kind.AVG_POOL, 2)).seed(3).build();
    float[] yRaw = direct(raw, x, 2, 28, 28, 1);
    double d = 0;
    for (int i = 0; i < y.length; i++) {
      d = Math.max(d, Math.abs(y[i] - yRaw[i]));
    }
    assertTrue(d > 1e-2, "shaped vs raw logits differ by only " + d);
  }

  /** The kernel shape of a variable of the SavedModel at {@code dir}. */
  private static long[] variableShape(Path dir, String name) {
    return dev.dks.rewriter.model.TensorProtos.shape(dev.dks.savedmodels.SavedModelReader
        .read(dir).variables().get(name));
  }

  private static long ops(Path dir, String op) {
    return dev.dks.savedmodels.SavedModelReader.read(dir).graph().getNodeList().stream()
        .filter(n -> n.getOp().equals(op)).count();
  }

  /**
   * {@code --stem} and {@code --classes} reach the builder: on a 32x32 ResNet-18 (auto: the small
   * stem) {@code --stem imagenet} gives the 7x7 stem kernel and the stem max-pool, {@code --stem
   * small} on 64x64 inputs (auto: imagenet) the 3x3 kernel without it; {@code --classes 7} makes
   * the head kernel [8 w, 7] and 7 logits per example, equal to the builder's own model with those
   * settings on random inputs.
   */
  @Test
  void stemAndClassesReachTheBuilder() {
    Path imagenet = tmp.resolve("imagenet_stem");
    Cli.json("build", "--arch", "resnet", "--depth", "18", "--width", "4", "--input", "32x32x3",
        "--stem", "imagenet", "--classes", "7", "--out", imagenet.toString());
    Path auto = tmp.resolve("auto_stem");
    Cli.json("build", "--arch", "resnet", "--depth", "18", "--width", "4", "--input", "32x32x3",
        "--out", auto.toString());
    assertArrayEquals(new long[] {7, 7, 3, 4}, variableShape(imagenet, "stem/conv/kernel"));
    assertEquals(1, ops(imagenet, "MaxPool"));
    assertArrayEquals(new long[] {3, 3, 3, 4}, variableShape(auto, "stem/conv/kernel"));
    assertEquals(0, ops(auto, "MaxPool"));
    Path small = tmp.resolve("small_stem");
    Cli.json("build", "--arch", "resnet", "--depth", "18", "--width", "4", "--input", "64x64x3",
        "--stem", "small", "--out", small.toString());
    assertArrayEquals(new long[] {3, 3, 3, 4}, variableShape(small, "stem/conv/kernel"));
    assertEquals(0, ops(small, "MaxPool"));

    // 4 groups: the head reads 8 w = 32 features
    assertArrayEquals(new long[] {32, 7}, variableShape(imagenet, "head/kernel"));
    assertArrayEquals(new long[] {32, 10}, variableShape(auto, "head/kernel"));
    Random rnd = new Random(4);
    float[] x = new float[2 * 32 * 32 * 3];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rnd.nextGaussian();
    }
    float[] y = serve(imagenet, x, 2, 32, 32, 3);
    assertEquals(2 * 7, y.length);
    ArchitectureSpec spec = ArchitectureSpec.builder(Architecture.RESNET, 18).width(4)
        .input("32x32x3").stem(ArchitectureSpec.Stem.IMAGENET).classes(7).build();
    assertArrayEquals(direct(spec, x, 2, 32, 32, 3), y, 1e-5f);
  }

  @Test
  void refusesANonEmptyOutputFolder() throws IOException {
    Path out = tmp.resolve("taken");
    Files.createDirectories(out);
    Files.writeString(out.resolve("keep.txt"), "mine");
    Cli r = Cli.run("build", "--arch", "mlp", "--depth", "2", "--out", out.toString());
    assertEquals(2, r.code());
    assertEquals(1, r.err().lines().count(), r.err());
    assertTrue(r.err().startsWith("dks: error: ") && r.err().contains("not empty"), r.err());
    assertEquals("mine", Files.readString(out.resolve("keep.txt")));
  }

  /** Each case: the arguments after {@code build}, then a fragment of the expected message. */
  @ParameterizedTest
  @ValueSource(strings = {
    "--arch vgg --depth 3|unknown architecture 'vgg'",
    "--arch resnet --depth 20|unsupported ResNet depth 20",
    "--arch mlp --depth 0|depth must be >= 1",
    "--arch mlp --depth 2 --method DKS|--method applies with --shaped",
    "--arch resnet --depth 18 --bn --shaped|batch normalization",
    "--arch mlp --depth 2 --v1|--v1 applies to --arch resnet",
    "--arch mlp --depth 2 --shortcut-weight 0.5|ResNets only",
    "--arch resnet --depth 18 --shortcut-weight 1.5|[0, 1]",
    "--arch mlp --depth 2 --input 28x28|HxWxC",
    "--arch mlp --depth 2 --activation nope|unknown activation 'nope'",
    "--arch plain-cnn --depth 20 --shaped --method TAT --activation relu|relu",
    "--arch plain-cnn --depth 4 --shaped --method TAT --eta 0.9|too shallow",
    "--arch plain-cnn --depth 4 --pool-every 2|--pool-every needs --pooling",
    "--arch mlp --depth 2 --pooling avg|plain CNNs only",
    "--arch mlp --depth 2|--out"
  })
  void badArgumentsExitTwoWithOneLine(String spec) {
    String[] parts = spec.split("\\|");
    String args = "build " + parts[0] + (parts[0].endsWith("--depth 2") && parts[1].equals("--out")
        ? "" : " --out " + tmp.resolve("never"));
    Cli r = Cli.run(args.split(" "));
    assertEquals(2, r.code(), r.err());
    assertEquals("", r.out());
    assertTrue(r.err().startsWith("dks: error: "), r.err());
    assertEquals(1, r.err().lines().count(), r.err());
    assertTrue(r.err().contains(parts[1]), r.err());
    assertFalse(Files.exists(tmp.resolve("never")));
  }
}
