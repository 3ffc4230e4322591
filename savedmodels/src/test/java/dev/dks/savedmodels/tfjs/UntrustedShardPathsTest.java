package dev.dks.savedmodels.tfjs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.savedmodels.ModelFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.TensorProto;

/**
 * Hostile TF.js weights manifests (issue 17): a shard path with {@code ..}, an absolute one, a
 * symbolic link to a file outside the model folder, a path through a linked directory, and a
 * declared size larger than the shards. Each must fail with a {@link ModelFormatException} naming
 * model.json and the path, and the outside file's bytes must not reach any weight. Controls: the
 * same manifest with an inside shard (and an inside link) reads the exact bytes written, so the
 * test would see a leak if the path check were gone.
 */
class UntrustedShardPathsTest {
  @TempDir
  Path tmp;

  /** Four floats no model shard here holds: the "secret" outside the model. */
  static final float[] SECRET = {1234.5f, -77.25f, 3.0e7f, 0.125f};
  static final float[] INSIDE = {1f, 2f, 3f, 4f};

  static byte[] floats(float... v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : v) {
      b.putFloat(f);
    }
    return b.array();
  }

  /**
   * Writes {@code model/model.json} (out = x + w, w a float32[n] weight in shard {@code shard})
   * and the secret at {@code tmp/secret.bin}; returns model.json.
   */
  static Path writeModel(Path tmp, String shard, long n) throws IOException {
    Path model = Files.createDirectories(tmp.resolve("model"));
    Files.write(tmp.resolve("secret.bin"), floats(SECRET));
    Files.write(model.resolve("w.bin"), floats(INSIDE));
    String dim = "{\"dim\":[{\"size\":\"4\"}]}";
    String json = "{\"format\":\"graph-model\",\"modelTopology\":{\"node\":["
        + "{\"name\":\"x\",\"op\":\"Placeholder\",\"attr\":{\"dtype\":{\"type\":\"DT_FLOAT\"},"
        + "\"shape\":{\"shape\":" + dim + "}}},"
        + "{\"name\":\"w\",\"op\":\"Const\",\"attr\":{\"dtype\":{\"type\":\"DT_FLOAT\"},"
        + "\"value\":{\"tensor\":{\"dtype\":\"DT_FLOAT\",\"tensorShape\":{\"dim\":[{\"size\":\""
        + n + "\"}]}}}}},"
        + "{\"name\":\"out\",\"op\":\"AddV2\",\"input\":[\"x\",\"w\"],\"attr\":{\"T\":{\"type\":"
        + "\"DT_FLOAT\"}}}],\"versions\":{\"producer\":175}},"
        + "\"weightsManifest\":[{\"paths\":[\"" + shard.replace("\\", "\\\\") + "\"],"
        + "\"weights\":[{\"name\":\"w\",\"shape\":[" + n + "],\"dtype\":\"float32\"}]}]}";
    Path p = model.resolve("model.json");
    Files.writeString(p, json);
    return p;
  }

  private static void refused(Path json, String shard, String... parts) {
    ModelFormatException e = assertThrows(ModelFormatException.class,
        () -> TfjsWeights.read(json));
    String msg = e.getMessage();
    assertTrue(msg.contains(json.toAbsolutePath().normalize().toString()), msg);
    assertTrue(msg.contains("'" + shard + "'"), msg);
    assertTrue(msg.contains("weight shard"), msg);
    for (String p : parts) {
      assertTrue(msg.contains(p), "'" + p + "' not in: " + msg);
    }
  }

  private static byte[] content(Map<String, TensorProto> w) {
    return w.get("w").getTensorContent().toByteArray();
  }

  @Test
  void anInsideShardReadsItsBytes() throws IOException {
    assertArrayEquals(floats(INSIDE), content(TfjsWeights.read(writeModel(tmp, "w.bin", 4))));
  }

  @Test
  void aDotDotPathIsRefused() throws IOException {
    refused(writeModel(tmp, "../secret.bin", 4), "../secret.bin", "leaves the model folder");
    // a path that leaves and comes back stays allowed
    assertArrayEquals(floats(INSIDE),
        content(TfjsWeights.read(writeModel(tmp, "../model/w.bin", 4))));
  }

  @Test
  void anAbsolutePathIsRefused() throws IOException {
    String abs = tmp.resolve("secret.bin").toAbsolutePath().toString();
    refused(writeModel(tmp, abs, 4), abs, "is absolute");
    // even one that points inside the folder: a model names its files relative to itself
    String absInside = tmp.resolve("model/w.bin").toAbsolutePath().toString();
    refused(writeModel(tmp, absInside, 4), absInside, "is absolute");
  }

  @Test
  void aSymlinkEscapingTheFolderIsRefused() throws IOException {
    Path json = writeModel(tmp, "link.bin", 4);
    Files.createSymbolicLink(json.resolveSibling("link.bin"), tmp.resolve("secret.bin"));
    refused(json, "link.bin", "symbolic link", "outside the model folder");
    // control: a link to a file inside the folder is read
    Path json2 = writeModel(tmp, "inner.bin", 4);
    Files.createSymbolicLink(json2.resolveSibling("inner.bin"), json2.resolveSibling("w.bin"));
    assertArrayEquals(floats(INSIDE), content(TfjsWeights.read(json2)));
  }

  @Test
  void aPathThroughALinkedDirectoryIsRefused() throws IOException {
    Path json = writeModel(tmp, "sub/secret.bin", 4);
    Files.createSymbolicLink(json.resolveSibling("sub"), tmp);
    refused(json, "sub/secret.bin", "outside the model folder");
  }

  @Test
  void aDeclaredSizeLargerThanTheShardIsRefusedBeforeReading() throws IOException {
    // 4 floats on disk (16 bytes); the manifest declares 1000 (4000 bytes) and 10^12
    ModelFormatException e = assertThrows(ModelFormatException.class,
        () -> TfjsWeights.read(writeModel(tmp, "w.bin", 1000)));
    assertTrue(e.getMessage().contains("weight 'w'"), e.getMessage());
    assertTrue(e.getMessage().contains("ends at byte 4000"), e.getMessage());
    assertTrue(e.getMessage().contains("hold only 16 bytes"), e.getMessage());
    e = assertThrows(ModelFormatException.class,
        () -> TfjsWeights.read(writeModel(tmp, "w.bin", 1_000_000_000_000L)));
    assertTrue(e.getMessage().contains("ends at byte 4000000000000"), e.getMessage());
  }
}
