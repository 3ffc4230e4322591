package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.cli.HostileSavedModels.Place;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.AssetFileDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.TensorInfo;

/**
 * SavedModels whose asset names or files lead outside the model folder (issue 17): an asset file
 * name with {@code ..}, an absolute one, {@code assets/vocab.txt} a symbolic link to a file
 * outside, and links out of {@code assets.extra/} and {@code variables/}. Every command that reads
 * a SavedModel (convert, rewrite, export, check-serving, verify, train, inspect, scan) ends with
 * one error line naming the asset or file (exit 2), even with {@code --allow-ops} for the table
 * initializers that would read it; no output folder appears, and the outside file is neither
 * read (its access time is pinned in the past and checked) nor changed. Control: the same model
 * with its asset inside the folder converts.
 */
class UntrustedAssetsTest {
  @TempDir
  Path tmp;

  private static final List<List<String>> COMMANDS = List.of(
      List.of("convert", "M", "--out", "O"), List.of("rewrite", "M", "--out", "O"),
      List.of("export", "M", "--out", "O"), List.of("check-serving", "M"),
      List.of("verify", "M"), List.of("train", "M", "--data", "mnist", "--steps", "1", "--out", "O"),
      List.of("inspect", "M"), List.of("scan", "M"),
      List.of("convert", "M", "--out", "O", "--allow-ops",
          "InitializeTableFromTextFileV2,ReadFile"));

  /** A clean y = Identity(x) SavedModel naming {@code assetName} in its asset_file_def. */
  private Path model(String name, String assetName) throws IOException {
    Path dir = HostileSavedModels.write(tmp.resolve(name), Place.NONE, null);
    Files.createDirectories(dir.resolve("assets"));
    if (assetName != null) {
      Path pb = dir.resolve("saved_model.pb");
      SavedModel sm = SavedModel.parseFrom(Files.readAllBytes(pb));
      SavedModel.Builder b = sm.toBuilder();
      b.getMetaGraphsBuilder(0).addAssetFileDef(AssetFileDef.newBuilder().setFilename(assetName)
          .setTensorInfo(TensorInfo.newBuilder().setName("asset_path:0")));
      Files.write(pb, b.build().toByteArray());
    }
    return dir;
  }

  private Path secret() throws IOException {
    Path s = tmp.resolve("secret.txt");
    if (!Files.exists(s)) {
      Files.writeString(s, "the service's own secret\n");
      Files.setLastModifiedTime(s, FileTime.fromMillis(1_000_000_000L));
      Files.setAttribute(s, "lastAccessTime", FileTime.fromMillis(1_000_000_000L));
    }
    return s;
  }

  private void everyCommandRefuses(Path model, String... fragments) throws IOException {
    Path secret = secret();
    for (List<String> c : COMMANDS) {
      Path out = tmp.resolve("out-" + c.get(0));
      String[] args = c.stream().map(a -> a.equals("M") ? model.toString()
          : a.equals("O") ? out.toString() : a).toArray(String[]::new);
      Cli r = Cli.run(args);
      Cli.assertOneErrorLine(r, fragments);
      assertFalse(Files.exists(out), c.get(0) + " wrote " + out);
    }
    assertEquals("the service's own secret\n", Files.readString(secret));
    // reading it above moved the access time; reset it for the next case (the checks below come
    // before that read)
    Files.setAttribute(secret, "lastAccessTime", FileTime.fromMillis(1_000_000_000L));
  }

  private void secretNotRead() throws IOException {
    FileTime atime = (FileTime) Files.getAttribute(secret(), "lastAccessTime");
    assertEquals(1_000_000_000L, atime.toMillis(), "the outside file was read");
  }

  @Test
  void assetNameWithDotDotIsRefused() throws IOException {
    secret();
    Path m = model("dotdot", "../../secret.txt");
    everyCommandRefuses(m, "asset file '../../secret.txt'", "outside the model folder");
  }

  @Test
  void absoluteAssetNameIsRefused() throws IOException {
    Path m = model("abs", secret().toString());
    everyCommandRefuses(m, "asset file '" + secret() + "' is absolute");
  }

  @Test
  void assetLinkLeavingTheFolderIsRefusedUnread() throws IOException {
    Path secret = secret();
    Path m = model("link", "vocab.txt");
    Files.createSymbolicLink(m.resolve("assets/vocab.txt"), secret);
    Path out = tmp.resolve("out-link");
    Cli r = Cli.run("convert", m.toString(), "--out", out.toString());
    secretNotRead();
    Cli.assertOneErrorLine(r, "assets/vocab.txt", "symbolic link to " + secret.toRealPath());
    // control: a read of the file does move its access time on this file system
    Files.readAllBytes(m.resolve("assets/vocab.txt"));
    assertTrue(((FileTime) Files.getAttribute(secret, "lastAccessTime")).toMillis()
        > 1_000_000_000L, "access times are not kept here: the check above cannot fail");
    everyCommandRefuses(m, "assets/vocab.txt", "outside the model folder");
  }

  @Test
  void linksOutOfAssetsExtraAndVariablesAreRefused() throws IOException {
    Path secret = secret();
    Path extra = model("extra", null);
    Files.createDirectories(extra.resolve("assets.extra"));
    Files.createSymbolicLink(extra.resolve("assets.extra/tf_serving_warmup_requests"), secret);
    everyCommandRefuses(extra, "assets.extra/tf_serving_warmup_requests", "symbolic link");
    Path vars = model("vars", null);
    Files.createSymbolicLink(vars.resolve("variables"), tmp);
    everyCommandRefuses(vars, "variables is a symbolic link to " + tmp.toRealPath());
  }

  @Test
  void assetInsideTheFolderConverts() throws IOException {
    Path m = model("inside", "vocab.txt");
    Files.writeString(m.resolve("assets/vocab.txt"), "a\nb\n");
    Files.createDirectories(m.resolve("assets/sub"));
    Files.createSymbolicLink(m.resolve("assets/sub/again.txt"), m.resolve("assets/vocab.txt"));
    Path out = tmp.resolve("out-inside");
    Cli r = Cli.run("convert", m.toString(), "--out", out.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(Files.exists(out.resolve("saved_model.pb")));
    assertEquals(0, Cli.run("scan", m.toString()).code());
  }
}
