package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dks convert} of TF.js models whose weights manifest names a shard outside the model
 * folder (issue 17): {@code ../secret.bin}, an absolute path, a symbolic link. Each run ends with
 * one {@code dks: error:} line naming the shard (exit 2), writes no output folder, and no file
 * but the secret itself holds the secret's bytes. Control: the same model with its own shard
 * converts, and its output holds the inside bytes, so the byte search would find a leak.
 */
class UntrustedShardConvertTest {
  @TempDir
  Path tmp;

  static byte[] floats(float... v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : v) {
      b.putFloat(f);
    }
    return b.array();
  }

  static final byte[] SECRET = floats(1234.5f, -77.25f, 3.0e7f, 0.125f);
  static final byte[] INSIDE = floats(1.5f, -2.75f, 3.25f, 4.5f);

  private Path model(String name, String shard) throws IOException {
    Path dir = Files.createDirectories(tmp.resolve(name));
    Files.write(tmp.resolve("secret.bin"), SECRET);
    Files.write(dir.resolve("w.bin"), INSIDE);
    String dim = "{\"dim\":[{\"size\":\"4\"}]}";
    Files.writeString(dir.resolve("model.json"), "{\"format\":\"graph-model\",\"modelTopology\":"
        + "{\"node\":[{\"name\":\"x\",\"op\":\"Placeholder\",\"attr\":{\"dtype\":{\"type\":"
        + "\"DT_FLOAT\"},\"shape\":{\"shape\":" + dim + "}}},{\"name\":\"w\",\"op\":\"Const\","
        + "\"attr\":{\"dtype\":{\"type\":\"DT_FLOAT\"},\"value\":{\"tensor\":{\"dtype\":"
        + "\"DT_FLOAT\",\"tensorShape\":" + dim + "}}}},{\"name\":\"out\",\"op\":\"AddV2\","
        + "\"input\":[\"x\",\"w\"],\"attr\":{\"T\":{\"type\":\"DT_FLOAT\"}}}],\"versions\":"
        + "{\"producer\":175}},\"weightsManifest\":[{\"paths\":[\"" + shard + "\"],\"weights\":"
        + "[{\"name\":\"w\",\"shape\":[4],\"dtype\":\"float32\"}]}]}");
    return dir.resolve("model.json");
  }

  /** Files under tmp (other than {@code except}) whose bytes contain {@code needle}. */
  private List<Path> holding(byte[] needle, Path except) throws IOException {
    try (Stream<Path> s = Files.walk(tmp)) {
      return s.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).filter(p -> !p.equals(except))
          .filter(p -> indexOf(read(p), needle) >= 0).toList();
    }
  }

  private static byte[] read(Path p) {
    try {
      return Files.readAllBytes(p);
    } catch (IOException e) {
      return new byte[0];
    }
  }

  static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  private void refused(Path json, String shard, String why) throws IOException {
    Path out = tmp.resolve("out-" + json.getParent().getFileName());
    Cli r = Cli.run("convert", json.toString(), "--out", out.toString());
    Cli.assertOneErrorLine(r, "'" + shard + "'", "weight shard", why);
    assertFalse(Files.exists(out), "an output folder was written: " + out);
    assertEquals(List.of(), holding(SECRET, tmp.resolve("secret.bin")));
  }

  @Test
  void theModelsOwnShardConverts() throws IOException {
    Path out = tmp.resolve("out-ok");
    Cli r = Cli.run("convert", model("ok", "w.bin").toString(), "--out", out.toString());
    assertEquals(0, r.code(), r.err());
    assertFalse(holding(INSIDE, tmp.resolve("ok/w.bin")).stream()
        .filter(p -> p.startsWith(out)).toList().isEmpty(), "the weights should be in " + out);
  }

  @Test
  void aDotDotShardIsRefused() throws IOException {
    refused(model("dotdot", "../secret.bin"), "../secret.bin", "leaves the model folder");
  }

  @Test
  void anAbsoluteShardIsRefused() throws IOException {
    String abs = tmp.resolve("secret.bin").toAbsolutePath().toString();
    refused(model("abs", abs), abs, "is absolute");
  }

  @Test
  void aSymlinkedShardIsRefused() throws IOException {
    Path json = model("link", "link.bin");
    Files.createSymbolicLink(json.resolveSibling("link.bin"), tmp.resolve("secret.bin"));
    refused(json, "link.bin", "outside the model folder");
  }
}
