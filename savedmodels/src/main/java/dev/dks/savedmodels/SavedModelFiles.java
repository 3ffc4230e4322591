package dev.dks.savedmodels;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.tensorflow.proto.AssetFileDef;
import org.tensorflow.proto.CollectionDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.SavedModel;

/**
 * Keeps the files TensorFlow's loader reads from a SavedModel folder inside that folder (untrusted
 * models, issue 17), checked before the loader runs:
 *
 * <ul>
 *   <li>every asset file name of every meta graph ({@code asset_file_def}, and the TF1 collection
 *       {@code saved_model_assets}), which the loader joins to {@code assets/} and feeds to the
 *       init op: no absolute path, no {@code ..} leaving the folder, no symbolic link whose target
 *       lies outside it, and the file must exist;
 *   <li>every entry under {@code assets/}, {@code assets.extra/} and {@code variables/}, and the
 *       top-level files the loader reads ({@code saved_model.pb(txt)}, {@code fingerprint.pb}):
 *       a symbolic link among them must resolve inside the folder.
 * </ul>
 *
 * A breach is a {@link ModelFormatException} naming the folder, the asset or file and where its
 * path leads; nothing has been read from the outside file then.
 */
public final class SavedModelFiles {
  private SavedModelFiles() {}

  /** The folders of a SavedModel whose entries the loader (or a table initializer) may read. */
  private static final List<String> FOLDERS = List.of("assets", "assets.extra", "variables");
  private static final List<String> TOP_FILES = List.of("saved_model.pb", "saved_model.pbtxt",
      "fingerprint.pb");

  /** Checks the SavedModel folder {@code dir} (parsed as {@code sm}); see the class comment. */
  public static void requireInside(Path dir, SavedModel sm) {
    Path base;
    try {
      base = dir.toRealPath();
    } catch (IOException e) {
      throw new ModelFormatException(dir + ": cannot resolve the model folder: " + e, e);
    }
    for (String f : TOP_FILES) {
      requireLinkInside(base, base.resolve(f));
    }
    for (String f : FOLDERS) {
      Path folder = base.resolve(f);
      if (!Files.exists(folder, LinkOption.NOFOLLOW_LINKS)) {
        continue;
      }
      requireLinkInside(base, folder);
      try (Stream<Path> s = Files.walk(folder)) {
        s.forEach(p -> requireLinkInside(base, p));
      } catch (IOException e) {
        throw new ModelFormatException(dir + ": cannot list " + f + "/: " + e, e);
      } catch (UncheckedIOException e) {
        throw new ModelFormatException(dir + ": cannot list " + f + "/: " + e.getCause(), e);
      }
    }
    for (String name : assetFileNames(sm)) {
      requireAssetInside(base, name);
    }
  }

  /** The asset file names of every meta graph of {@code sm}, in order, duplicates kept. */
  public static List<String> assetFileNames(SavedModel sm) {
    List<String> out = new ArrayList<>();
    for (MetaGraphDef mg : sm.getMetaGraphsList()) {
      mg.getAssetFileDefList().forEach(a -> out.add(a.getFilename()));
      CollectionDef c = mg.getCollectionDefMap().get("saved_model_assets");
      if (c != null && c.hasAnyList()) {
        for (Any any : c.getAnyList().getValueList()) {
          if (any.is(AssetFileDef.class)) {
            try {
              out.add(any.unpack(AssetFileDef.class).getFilename());
            } catch (InvalidProtocolBufferException e) {
              throw new ModelFormatException("saved_model_assets holds an unreadable "
                  + "AssetFileDef: " + e.getMessage(), e);
            }
          }
        }
      }
    }
    return out;
  }

  /** Refuses an asset name that is absolute, leaves {@code base}/assets' folder or is missing. */
  private static void requireAssetInside(Path base, String name) {
    String what = "asset file '" + name + "'";
    Path rel;
    try {
      rel = base.getFileSystem().getPath(name);
    } catch (InvalidPathException e) {
      throw new ModelFormatException(base + ": " + what + " is not a valid path ("
          + e.getReason() + ")");
    }
    if (name.isEmpty() || rel.isAbsolute() || rel.getRoot() != null) {
      throw new ModelFormatException(base + ": " + what + " is " + (name.isEmpty() ? "empty"
          : "absolute") + "; a SavedModel may only name files inside its assets/ folder");
    }
    Path lexical = base.resolve("assets").resolve(rel).normalize();
    if (!lexical.startsWith(base)) {
      throw new ModelFormatException(base + ": " + what + " leads to " + lexical
          + ", outside the model folder; a SavedModel may only name files inside it");
    }
    Path real;
    try {
      real = lexical.toRealPath();
    } catch (IOException e) {
      throw new ModelFormatException(base + ": " + what + " is missing (" + lexical + ")");
    }
    if (!real.startsWith(base)) {
      throw new ModelFormatException(base + ": " + what + " is a symbolic link to " + real
          + ", outside the model folder; a SavedModel may only name files inside it");
    }
  }

  /** Refuses {@code p} when it is a symbolic link (or under one) resolving outside {@code base}. */
  private static void requireLinkInside(Path base, Path p) {
    if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    Path real;
    try {
      real = p.toRealPath();
    } catch (IOException e) {
      throw new ModelFormatException(base + ": " + base.relativize(p) + " is a broken symbolic "
          + "link (" + e.getMessage() + ")");
    }
    if (!real.startsWith(base)) {
      throw new ModelFormatException(base + ": " + base.relativize(p) + " is a symbolic link to "
          + real + ", outside the model folder; a SavedModel may only hold its own files");
    }
  }
}
