package dev.dks.savedmodels.keras;

import static dev.dks.savedmodels.keras.KerasFixture.cfg;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dks.savedmodels.ModelFormatException;
import dev.dks.savedmodels.TestAssets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Corrupt and unsupported inputs give a {@link ModelFormatException} whose message names the file
 * (and the layer, when one is at fault), never another exception or a crash: truncated and
 * random-bytes HDF5 files, weights-only HDF5, broken model.json, missing or short shards, weights
 * of the wrong shape, unknown layers and activations, unsupported layer options.
 */
class KerasCorruptInputTest {
  @TempDir Path tmp;

  private static ModelFormatException fails(Function<Path, ?> reader, Path file,
      String... mentions) {
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> reader.apply(file));
    String msg = e.getMessage();
    System.out.println("  " + file.getFileName() + ": " + msg);
    assertTrue(msg.contains(file.toAbsolutePath().normalize().toString()),
        "message does not name the file: " + msg);
    for (String m : mentions) {
      assertTrue(msg.contains(m), "message does not mention '" + m + "': " + msg);
    }
    return e;
  }

  /** A two-layer model: input 4x4x2, Conv2D "conv" (3 filters), then {@code extra}. */
  private static KerasFixture small(String extraClass, ObjectNode extraConfig) {
    KerasFixture f = new KerasFixture(1, false, null);
    f.input("in", 4, 4, 2);
    f.weight("conv", "kernel", 3, 3, 2, 3);
    f.weight("conv", "bias", 3);
    f.layer("Conv2D", "conv", cfg("filters", 3, "kernel_size", List.of(3, 3), "padding",
        "same"), "in");
    f.layer(extraClass, "extra", extraConfig, "conv");
    f.outputs("extra");
    return f;
  }

  @Test
  void truncatedSyntheticH5() throws Exception {
    Path good = small("Flatten", cfg()).writeH5(tmp.resolve("good.h5"));
    KerasModelReader.readH5(good);
    byte[] bytes = Files.readAllBytes(good);
    for (double frac : new double[] {0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99}) {
      int n = (int) (bytes.length * frac);
      Path t = tmp.resolve("truncated-" + n + ".h5");
      Files.write(t, Arrays.copyOf(bytes, n));
      fails(KerasModelReader::readH5, t);
    }
  }

  @Test
  void truncatedResNet8() throws Exception {
    Path h5 = TestAssets.sharedModel("keras_h5_mlperftiny_resnet8/pretrainedResnet.h5");
    byte[] bytes = Files.readAllBytes(h5);
    for (int n : new int[] {0, 8, 512, 4096, bytes.length / 10, bytes.length / 2,
        bytes.length * 9 / 10, bytes.length - 1}) {
      Path t = tmp.resolve("resnet-" + n + ".h5");
      Files.write(t, Arrays.copyOf(bytes, n));
      fails(KerasModelReader::readH5, t);
    }
  }

  @Test
  void randomBytes() throws Exception {
    Random rnd = new Random(123);
    for (int size : new int[] {1, 100, 4096, 100_000}) {
      byte[] b = new byte[size];
      rnd.nextBytes(b);
      Path h5 = tmp.resolve("random-" + size + ".h5");
      Files.write(h5, b);
      fails(KerasModelReader::readH5, h5);
      Path dir = Files.createDirectories(tmp.resolve("random-" + size));
      Path json = dir.resolve("model.json");
      Files.write(json, b);
      fails(KerasModelReader::readLayersJson, json);
    }
    // an HDF5 signature followed by garbage
    byte[] b = new byte[10_000];
    rnd.nextBytes(b);
    System.arraycopy(new byte[] {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'}, 0, b, 0, 8);
    Path h5 = tmp.resolve("signature-then-garbage.h5");
    Files.write(h5, b);
    fails(KerasModelReader::readH5, h5);
  }

  @Test
  void missingFiles() {
    fails(KerasModelReader::readH5, tmp.resolve("nope.h5"));
    fails(KerasModelReader::readLayersJson, tmp.resolve("nope/model.json"));
    fails(KerasModelReader::readH5, tmp);
  }

  @Test
  void unknownLayerNamesLayerAndClass() throws Exception {
    KerasFixture f = small("Lambda", cfg("function", "x * 2"));
    fails(KerasModelReader::readH5, f.writeH5(tmp.resolve("lambda.h5")), "'extra'", "Lambda");
    fails(KerasModelReader::readLayersJson, f.writeLayersJson(tmp.resolve("lambda")), "'extra'",
        "Lambda");
    // a nested model is a layer of class Functional
    KerasFixture g = small("Functional", cfg("layers", List.of()));
    fails(KerasModelReader::readLayersJson, g.writeLayersJson(tmp.resolve("nested")), "'extra'",
        "Functional");
  }

  @Test
  void unsupportedOptionsNameTheLayer() throws Exception {
    fails(KerasModelReader::readLayersJson, small("Activation", cfg("activation",
        "hard_sigmoid")).writeLayersJson(tmp.resolve("act")), "'extra'", "hard_sigmoid");
    KerasFixture bn = small("BatchNormalization", cfg("axis", 1));
    bn.weight("extra", "gamma", 4);
    bn.weight("extra", "beta", 4);
    bn.weight("extra", "moving_mean", 4);
    bn.weight("extra", "moving_variance", 4);
    fails(KerasModelReader::readLayersJson, bn.writeLayersJson(tmp.resolve("bn")), "'extra'",
        "BatchNormalization", "axis 1");
    fails(KerasModelReader::readLayersJson, small("MaxPooling2D", cfg("data_format",
        "channels_first")).writeLayersJson(tmp.resolve("cf")), "'extra'", "channels_first");
    fails(KerasModelReader::readLayersJson, small("MaxPooling2D", cfg("padding", "causal"))
        .writeLayersJson(tmp.resolve("pad")), "'extra'", "causal");
  }

  @Test
  void weightsThatDoNotFit() throws Exception {
    // kernel of the wrong shape
    KerasFixture f = new KerasFixture(1, false, null);
    f.input("in", 4, 4, 2);
    f.weight("conv", "kernel", 3, 3, 5, 3);
    f.weight("conv", "bias", 3);
    f.layer("Conv2D", "conv", cfg("filters", 3, "kernel_size", List.of(3, 3)), "in");
    f.outputs("conv");
    fails(KerasModelReader::readLayersJson, f.writeLayersJson(tmp.resolve("shape")), "'conv'",
        "[3, 3, 5, 3]");
    fails(KerasModelReader::readH5, f.writeH5(tmp.resolve("shape.h5")), "'conv'",
        "[3, 3, 5, 3]");
    // missing weights
    KerasFixture g = new KerasFixture(1, false, null);
    g.input("in", 4, 4, 2);
    g.layer("Conv2D", "conv", cfg("filters", 3, "kernel_size", List.of(3, 3)), "in");
    g.outputs("conv");
    fails(KerasModelReader::readLayersJson, g.writeLayersJson(tmp.resolve("none")), "'conv'");
  }

  @Test
  void brokenModelJsonAndShards() throws Exception {
    KerasFixture f = small("Flatten", cfg());
    Path json = f.writeLayersJson(tmp.resolve("ok"));
    KerasModelReader.readLayersJson(json);
    String text = Files.readString(json);
    Path shard = json.resolveSibling("group1-shard1of1.bin");
    byte[] bin = Files.readAllBytes(shard);

    Files.write(shard, Arrays.copyOf(bin, bin.length - 4));
    fails(KerasModelReader::readLayersJson, json, "conv/bias", "truncated");
    Files.delete(shard);
    fails(KerasModelReader::readLayersJson, json, "group1-shard1of1.bin");
    Files.write(shard, bin);

    Files.writeString(json, text.substring(0, text.length() / 2));
    fails(KerasModelReader::readLayersJson, json, "JSON");
    Files.writeString(json, "");
    fails(KerasModelReader::readLayersJson, json);
    Files.writeString(json, "[1, 2, 3]");
    fails(KerasModelReader::readLayersJson, json);
    Files.writeString(json, "{\"modelTopology\": {\"node\": []}, \"weightsManifest\": []}");
    fails(KerasModelReader::readLayersJson, json, "graph model");
    Files.writeString(json, text.replace("\"shape\":[3]", "\"shape\":[\"x\"]"));
    fails(KerasModelReader::readLayersJson, json, "conv/bias");
    Files.writeString(json, text.replace("\"shape\":[3]", "\"shape\":[4]"));
    fails(KerasModelReader::readLayersJson, json, "conv/bias");
    Files.writeString(json, text.replace("\"shape\":[3]", "\"shape\":[99999999999]"));
    fails(KerasModelReader::readLayersJson, json, "conv/bias");
    Files.writeString(json, text.replace("group1-shard1of1.bin", "../../../etc/passwd"));
    fails(KerasModelReader::readLayersJson, json, "leaves the model folder");
    // a reference to a layer that does not exist
    ObjectNode cfgNode = f.modelConfig();
    ((ArrayNode) cfgNode.get("config").get("output_layers")).removeAll()
        .add(KerasFixture.JSON.createArrayNode().add("ghost").add(0).add(0));
    fails(KerasModelReader::readLayersJson, f.writeLayersJson(tmp.resolve("ghost"), cfgNode),
        "ghost");
    // a cycle
    ObjectNode cyc = f.modelConfig();
    ((ArrayNode) cyc.get("config").get("layers").get(1).get("inbound_nodes").get(0).get(0))
        .set(0, KerasFixture.JSON.getNodeFactory().textNode("extra"));
    fails(KerasModelReader::readLayersJson, f.writeLayersJson(tmp.resolve("cycle"), cyc),
        "cannot be computed");
  }

  @Test
  void h5WithoutOrWithBrokenConfig() throws Exception {
    KerasFixture f = small("Flatten", cfg());
    fails(KerasModelReader::readH5, f.writeH5(tmp.resolve("weights-only.h5"), null),
        "model_config");
    fails(KerasModelReader::readH5, f.writeH5(tmp.resolve("bad-json.h5"), "{\"class_name\": "),
        "JSON");
    fails(KerasModelReader::readH5, f.writeH5(tmp.resolve("not-keras.h5"), "{\"a\": 1}"),
        "class_name");
    fails(KerasModelReader::readH5, f.writeH5(tmp.resolve("subclassed.h5"),
        "{\"class_name\": \"MyModel\", \"config\": {}}"), "MyModel");
  }
}
